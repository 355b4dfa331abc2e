import { createHmac } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as events from '@open-actions/testing/events'
import { type HttpsSink, startHttpsSink, TEST_CA_FILE } from '@open-actions/testing/https-sink'
import { npmInstall } from './npm-install.test-helpers'
import { actionsCoreFor } from './packages'
import { getJson, postJson, startTestRuntime } from './runtime-harness.test-helpers'
import type { StartedRuntime } from './start'
import type { EventResult } from './store/results'

/*
 * Segment's own Webhook destination, from Segment's catalogue on npm (@segment/action-destinations, installed by this
 * test with npm outside the workspace, its own actions-core included), configured by package path in live mode against
 * a loopback HTTPS sink.
 */

const VERSION = '3.497.0'
const SHARED_SECRET = 'webhook-shared-secret-9876'
const EVENTS = 300

let sink: HttpsSink
let running: StartedRuntime & { logs: string[] }
let webhook: string

beforeAll(() => {
  // The npm registry this project is tested against lacks @aws-sdk/client-kinesis 3.974.0, which the catalogue pins
  // (for its Kinesis destination, not the Webhook): a newer one stands in.
  const folder = npmInstall([`@segment/action-destinations@${VERSION}`], {
    '@aws-sdk/client-kinesis': '3.1143.0',
    'fast-uri': '3.1.5'
  })
  webhook = join(folder, 'node_modules', '@segment', 'action-destinations', 'dist', 'destinations', 'webhook')
}, 600_000)

beforeAll(async () => {
  sink = await startHttpsSink({ chunked: true })
  running = await startTestRuntime({
    transport: 'live',
    writeKeys: {},
    sources: [],
    network: { allowPrivateNetworks: true, caFile: TEST_CA_FILE },
    delivery: { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 50, maxConcurrent: 16 },
    destinations: [
      {
        id: 'webhook',
        package: webhook,
        export: 'default',
        settings: { sharedSecret: SHARED_SECRET },
        subscriptions: [
          {
            partnerAction: 'send',
            subscribe: 'type = "track" or type = "identify"',
            mapping: {
              url: `${sink.origin}/hook`,
              method: 'POST',
              headers: { 'x-source': 'open-actions' },
              data: { '@path': '$.' }
            }
          }
        ]
      }
    ]
  })
})

afterAll(async () => {
  await running?.stop()
  await sink?.close()
})

describe("Segment's Webhook destination from npm", () => {
  it('loads with its own actions-core and is listed as a package instance', async () => {
    const instance = running.runtime.config.destinations[0]
    expect(instance).toMatchObject({ id: 'webhook', origin: 'package', integration: webhook })
    expect(actionsCoreFor(instance?.definition ?? {}).own).toBe(false)
    const catalog = (await getJson(`${running.url}/v1/catalog`)).body as {
      integrations: { slug: string; packageName: string; version: string; destinations: { name: string }[] }[]
    }
    expect(catalog.integrations.find((entry) => entry.slug === webhook)).toMatchObject({
      packageName: '@segment/action-destinations',
      version: VERSION,
      destinations: [{ name: 'Webhook' }]
    })
  })

  it(`delivers ${EVENTS} events live, each exactly once, signed with the shared secret`, async () => {
    const sent = Array.from({ length: EVENTS }, (_, index) =>
      index % 3 === 0
        ? events.identifyEvent({ messageId: `wh-${index}`, userId: `user-${index}` })
        : events.trackEvent('Order Completed', { order_id: `o-${index}`, total: index }, { messageId: `wh-${index}` })
    )
    for (let start = 0; start < sent.length; start += 100)
      expect((await postJson(`${running.url}/v1/events`, sent.slice(start, start + 100))).status).toBe(202)
    await running.runtime.drain()

    const arrived = sink.requests.filter((request) => request.path === '/hook')
    const ids = arrived.map((request) => (JSON.parse(request.body) as { messageId: string }).messageId)
    expect(ids).toHaveLength(EVENTS)
    expect(new Set(ids)).toStrictEqual(new Set(sent.map((event) => event.messageId)))
    for (const request of arrived) {
      expect(request.method).toBe('POST')
      expect(request.headers['content-type']).toBe('application/json')
      expect(request.headers['x-source']).toBe('open-actions')
      const body = JSON.parse(request.body) as unknown
      expect(request.headers['x-signature']).toBe(
        createHmac('sha1', SHARED_SECRET).update(JSON.stringify(body), 'utf8').digest('hex')
      )
    }
    const one = (await getJson(`${running.url}/v1/events/wh-7`)).body as EventResult
    expect(one.targets).toMatchObject([{ instance: 'webhook', action: 'send', status: 'delivered', attempts: 1 }])
    expect((await running.runtime.deadLetters({ limit: 1 })).deadLetters).toStrictEqual([])
    expect(running.logs.join('\n')).not.toContain(SHARED_SECRET)
  })
})
