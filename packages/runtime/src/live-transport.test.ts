import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import type { SegmentEvent } from '@segment/actions-core'
import * as events from '@open-actions/testing/events'
import { startHttpsSink, TEST_CA_FILE } from '@open-actions/testing/https-sink'
import { resolveConfig } from './config'
import { temporaryStateDir } from './runtime-harness.test-helpers'
import { OpenActionsRuntime } from './runtime'
import { registry } from './start'

/*
 * Live mode against a vendor on loopback that answers over real TLS with a chunked body, as most real servers do.
 * With node-fetch on reused connections this lost data (1,000 events: 6,112 requests, 539–570 dead-lettered though
 * delivered). Now: exactly one request per event, every event delivered once, nothing retried, over the instance's
 * own few connections; and actions-core's own client, when asked for, is correct too (one connection per request).
 */

const EVENTS = 1_000
const MAX_CONCURRENT = 8

async function deliverThroughSink(client: 'runtime' | 'actions-core') {
  const sink = await startHttpsSink({ chunked: true })
  const resolved = resolveConfig(
    {
      transport: 'live',
      stateDir: temporaryStateDir(),
      network: { caFile: TEST_CA_FILE },
      destinations: [
        {
          id: 'tray-loopback',
          integration: 'tray',
          settings: { workflows: [`${sink.origin}/workflow`], allow_insecure_urls: true },
          // The sink is on loopback, which the live transport refuses unless this instance may reach it.
          allowPrivateNetworks: true,
          maxConcurrent: MAX_CONCURRENT,
          client
        }
      ]
    },
    registry
  )
  const runtime = await OpenActionsRuntime.open({ resolved, registry, logLevel: 'error', logWrite: () => undefined })
  try {
    const sent: SegmentEvent[] = Array.from({ length: EVENTS }, (_, index) =>
      events.trackEvent('Live Sink Checked', { index }, { messageId: `live-${client}-${index}` })
    )
    for (let offset = 0; offset < EVENTS; offset += 100) await runtime.ingestEvents(sent.slice(offset, offset + 100))
    await runtime.drain({ timeoutMs: 120_000 })
    const lane = runtime.lanes.get('tray-loopback')
    return {
      sink,
      totals: { ...runtime.totals },
      deadLetters: (await runtime.deadLetters({ limit: 10 })).deadLetters.length,
      transport: { ...(lane?.transport.counters ?? { connections: -1, tlsHandshakes: -1 }) },
      client: lane?.client
    }
  } finally {
    await runtime.close()
    await sink.close()
  }
}

describe('live transport against a chunked HTTPS vendor on loopback', () => {
  it('runtime client: 1,000 events → exactly 1,000 requests, all delivered, connections reused', async () => {
    const outcome = await deliverThroughSink('runtime')
    expect(outcome.client).toBe('runtime')
    expect(outcome.sink.requests).toHaveLength(EVENTS)
    const ids = new Set(
      outcome.sink.requests.map((request) => (JSON.parse(request.body) as { messageId: string }).messageId)
    )
    expect(ids.size).toBe(EVENTS)
    expect(outcome.sink.requests.every((request) => request.method === 'POST' && request.path === '/workflow')).toBe(
      true
    )
    expect(outcome.totals).toStrictEqual({ delivered: EVENTS, deadLettered: 0, retries: 0 })
    expect(outcome.deadLetters).toBe(0)
    // At most the instance's maxConcurrent connections, each one TLS handshake, as the sink and the runtime both count.
    expect(outcome.sink.counters.connections).toBeLessThanOrEqual(MAX_CONCURRENT)
    expect(outcome.sink.counters.tlsHandshakes).toBe(outcome.sink.counters.connections)
    expect(outcome.transport).toStrictEqual({
      connections: outcome.sink.counters.connections,
      tlsHandshakes: outcome.sink.counters.tlsHandshakes
    })
  })

  it('actions-core client (asked for): 1,000 events → exactly 1,000 requests, one connection each', async () => {
    const outcome = await deliverThroughSink('actions-core')
    expect(outcome.client).toBe('actions-core')
    expect(outcome.sink.requests).toHaveLength(EVENTS)
    expect(outcome.totals).toStrictEqual({ delivered: EVENTS, deadLettered: 0, retries: 0 })
    expect(outcome.sink.counters.connections).toBe(EVENTS)
    expect(outcome.transport.connections).toBe(EVENTS)
  })
})

describe('the live egress guard', () => {
  it('refuses a loopback vendor unless the instance allows private networks, and dead-letters at once', async () => {
    const sink = await startHttpsSink()
    const resolved = resolveConfig(
      {
        transport: 'live',
        stateDir: temporaryStateDir(),
        network: { caFile: TEST_CA_FILE },
        destinations: [
          {
            id: 'tray-guarded',
            integration: 'tray',
            // Tray's own URL check is lifted; the runtime's transport still refuses the address.
            settings: { workflows: [`${sink.origin}/workflow`], allow_insecure_urls: true }
          }
        ]
      },
      registry
    )
    const runtime = await OpenActionsRuntime.open({ resolved, registry, logLevel: 'error', logWrite: () => undefined })
    try {
      await runtime.ingestEvents([events.trackEvent('Guarded', {}, { messageId: 'guarded-1' })])
      await runtime.drain({ timeoutMs: 30_000 })
      expect(runtime.totals).toStrictEqual({ delivered: 0, deadLettered: 1, retries: 0 })
      const [letter] = (await runtime.deadLetters({ limit: 10 })).deadLetters
      expect(letter?.reason).toContain('127.0.0.1')
      expect(letter?.reason).toContain('private, loopback, link-local or metadata address')
      expect(sink.counters.connections).toBe(0)
      expect(sink.requests).toHaveLength(0)
    } finally {
      await runtime.close()
      await sink.close()
    }
  })
})

describe('a process embedding the runtime keeps its own HTTP', () => {
  it('replaces no global agent, and the process’s own requests go where they are sent (sandbox mode running)', async () => {
    const globals = { http: http.globalAgent, https: https.globalAgent }
    const sink = await startHttpsSink({ chunked: false })
    const resolved = resolveConfig({ stateDir: temporaryStateDir() }, registry)
    const runtime = await OpenActionsRuntime.open({ resolved, registry, logLevel: 'error', logWrite: () => undefined })
    try {
      expect(http.globalAgent).toBe(globals.http)
      expect(https.globalAgent).toBe(globals.https)
      // A request of the embedding application through Node's global agent reaches the real server, not a simulator.
      const status = await new Promise<number | undefined>((resolve, reject) => {
        https
          .get(`${sink.origin}/own`, { ca: readFileSync(TEST_CA_FILE) }, (response) => {
            response.resume()
            response.on('end', () => resolve(response.statusCode))
          })
          .on('error', reject)
      })
      expect(status).toBe(200)
      expect(sink.requests.map((request) => request.path)).toStrictEqual(['/own'])
      expect(runtime.recorder.total).toBe(0)
      expect(runtime.sandbox.counters.requests).toBe(0)
    } finally {
      await runtime.close()
      await sink.close()
    }
    expect(https.globalAgent).toBe(globals.https)
  })
})
