import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { Analytics } from '@segment/analytics-node'
import { SAMPLE_SECRETS, startTestRuntime } from '../runtime-harness.test-helpers'
import type { StartedRuntime } from '../start'

/*
 * Segment's own Node SDK, unchanged, pointed at the runtime with `host`: it posts batches to /v1/batch with the write
 * key as the Basic-auth user name. What reaches the (sandboxed) vendors is asserted.
 */

let started: StartedRuntime & { logs: string[] }

beforeAll(async () => {
  started = await startTestRuntime()
})
afterAll(async () => {
  await started?.stop()
})

describe('@segment/analytics-node against the runtime', () => {
  it('delivers identify, track, page and group to the vendors, completed as Segment completes them', async () => {
    const errors: unknown[] = []
    const analytics = new Analytics({
      writeKey: 'sandbox-tracking-write-key',
      host: started.url,
      flushAt: 10,
      flushInterval: 50,
      maxRetries: 0
    })
    analytics.on('error', (error) => errors.push(error))
    const sent: string[] = []
    analytics.on('http_request', (request) => sent.push(`${request.method} ${request.url}`))
    analytics.identify({
      userId: 'node-user-1',
      traits: { email: 'node.user@example.com', first_name: 'Node', phone: '+14155550111' }
    })
    analytics.track({
      userId: 'node-user-1',
      event: 'Order Completed',
      properties: {
        order_id: 'node-order-1',
        total: 30,
        currency: 'EUR',
        products: [{ product_id: 'sku-1', name: 'Mug', price: 15, quantity: 2 }]
      }
    })
    analytics.page({ anonymousId: 'node-anon-1', name: 'Pricing', properties: { url: 'https://shop.example/pricing' } })
    analytics.group({ userId: 'node-user-1', groupId: 'node-group-1', traits: { name: 'Acme' } })
    await analytics.closeAndFlush({ timeout: 10_000 })
    expect(errors).toStrictEqual([])
    expect(sent.length).toBeGreaterThan(0)
    expect(new Set(sent)).toStrictEqual(new Set([`POST ${started.url}/v1/batch`]))

    await started.runtime.drain()
    const records = started.runtime.recorder.list({ limit: 1000 })
    const byUrl = new Map<string, unknown[]>()
    for (const record of records) byUrl.set(record.url, [...(byUrl.get(record.url) ?? []), record.body])

    // Insider: the identify as a user upsert, the order as confirmation_page_view.
    const insider = JSON.stringify(byUrl.get('https://unification.useinsider.com/api/user/v1/upsert'))
    expect(insider).toContain('"uuid":"node-user-1"')
    expect(insider).toContain('"email":"node.user@example.com"')
    expect(insider).toContain('"event_name":"confirmation_page_view"')
    // MoEngage: the customer and the event.
    const moengage = JSON.stringify(byUrl.get('https://api-01.moengage.com/v1/transition/SANDBOXWS01'))
    expect(moengage).toContain('"customer_id":"node-user-1"')
    expect(moengage).toContain('"action":"Order Completed"')
    // Segment: every message forwarded, with the SDK's own messageId and library, and the completion.
    const segment = (byUrl.get('https://api.segment.io/v1/batch') ?? []).flatMap(
      (body) => (body as { batch: Record<string, unknown>[] }).batch
    )
    expect(segment.map((message) => message.type).sort()).toStrictEqual(['group', 'identify', 'page', 'track'])
    for (const message of segment) {
      expect(message.messageId).toMatch(/^node-next-\d+-/)
      expect(message.context).toMatchObject({ library: { name: '@segment/analytics-node', version: '3.1.0' } })
      expect(typeof message.timestamp).toBe('string')
      expect(message).not.toHaveProperty('writeKey')
    }
    // Tray: the messages whole, as committed: receivedAt set, the SDK's timestamp kept as originalTimestamp.
    const tray = (byUrl.get('https://0d4f2a1e-sandbox-one.trayapp.io/') ?? []) as Record<string, string>[]
    expect(tray.map((message) => message.type).sort()).toStrictEqual(['group', 'identify', 'page', 'track'])
    for (const message of tray) {
      expect(Date.parse(message.receivedAt ?? '')).toBeGreaterThan(Date.now() - 60_000)
      expect(Date.parse(message.originalTimestamp ?? '')).toBeGreaterThan(Date.now() - 60_000)
      // Same machine, same clock: the skew correction moves the timestamp by the time in transit only.
      expect(Math.abs(Date.parse(message.timestamp ?? '') - Date.parse(message.originalTimestamp ?? ''))).toBeLessThan(
        5_000
      )
    }

    const shown = JSON.stringify(records) + started.logs.join('\n')
    for (const secret of SAMPLE_SECRETS) expect(shown).not.toContain(secret)
  })

  it('is told 401 for a write key that is not configured, and drops nothing silently', async () => {
    const errors: unknown[] = []
    const analytics = new Analytics({ writeKey: 'not-a-configured-key', host: started.url, maxRetries: 0 })
    analytics.on('error', (error) => errors.push(error))
    analytics.track({ userId: 'u', event: 'E' })
    await analytics.closeAndFlush({ timeout: 10_000 })
    expect(errors).toHaveLength(1)
    expect(String((errors[0] as { reason?: unknown }).reason ?? errors[0])).toMatch(/401/)
  })
})
