import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { AddressInfo } from 'node:net'
import { call, SAMPLE_SECRETS, startTestRuntime } from '../runtime-harness.test-helpers'
import type { StartedRuntime } from '../start'
import type { DeliveryRecord } from '../transport/recorder'
import { createRuntimeServer } from './app'

/*
 * Segment's HTTP Tracking API over real HTTP, on the sample configuration in sandbox mode: the write key
 * `sandbox-tracking-write-key` sends to every destination, `tray-only-write-key` to Tray alone. Tray forwards each
 * message whole, so its captured requests show exactly what the runtime committed.
 */

const WRITE_KEY = 'sandbox-tracking-write-key'
const TRAY_ONLY_KEY = 'tray-only-write-key'
const TRAY_URL = 'https://0d4f2a1e-sandbox-one.trayapp.io/'
const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`
const asJson = { 'content-type': 'application/json', authorization: basic(WRITE_KEY) }

let started: StartedRuntime & { logs: string[] }

beforeAll(async () => {
  started = await startTestRuntime({
    writeKeys: { [WRITE_KEY]: {}, [TRAY_ONLY_KEY]: { destinations: ['tray'] } }
  })
})
afterAll(async () => {
  await started?.stop()
})

function deliveries(): DeliveryRecord[] {
  return started.runtime.recorder.list({ limit: 1000 })
}

/** The requests that carried a message, waited for (delivery starts within about a second of acceptance). */
async function deliveredFor(messageId: string, count: number, withinMs = 3000): Promise<DeliveryRecord[]> {
  const deadline = Date.now() + withinMs
  for (;;) {
    const found = deliveries().filter((record) => record.eventIds.includes(messageId))
    if (found.length >= count || Date.now() > deadline) return found
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

function trayBody(records: readonly DeliveryRecord[]): Record<string, unknown> | undefined {
  return records.find((record) => record.url === TRAY_URL)?.body as Record<string, unknown> | undefined
}

const identity = { userId: 'user-77', anonymousId: 'anon-77' }

describe('Segment Tracking API: routes, bodies and answers', () => {
  const single: [string, string, Record<string, unknown>][] = [
    ['/v1/identify', 'identify', { traits: { email: 'jane@example.com' } }],
    ['/v1/track', 'track', { event: 'Order Completed', properties: { order_id: 'o-1', revenue: 10 } }],
    ['/v1/page', 'page', { name: 'Home', properties: { url: 'https://shop.example/' } }],
    ['/v1/screen', 'screen', { name: 'Home' }],
    ['/v1/group', 'group', { groupId: 'g-1', traits: { name: 'Acme' } }],
    ['/v1/alias', 'alias', { previousId: 'anon-77' }],
    ['/v1/i', 'identify', { traits: { plan: 'pro' } }],
    ['/v1/t', 'track', { event: 'Signed Up' }],
    ['/v1/p', 'page', { name: 'Pricing' }],
    ['/v1/s', 'screen', { name: 'Settings' }],
    ['/v1/g', 'group', { groupId: 'g-2' }],
    ['/v1/a', 'alias', { previousId: 'anon-78' }]
  ]

  it.each(single)(
    'POST %s takes a %s message (its type from the path) and answers as Segment does',
    async (path, type, fields) => {
      const messageId = `route-${path.slice(4)}`
      const answer = await call(started.url, 'POST', path, {
        headers: asJson,
        body: JSON.stringify({ ...identity, ...fields, messageId, timestamp: '2026-11-20T10:00:00.000Z' })
      })
      expect([answer.status, JSON.parse(answer.body)]).toStrictEqual([200, { success: true }])
      expect(answer.headers['access-control-allow-origin']).toBe('*')
      const tray = trayBody(await deliveredFor(messageId, 1))
      expect(tray).toMatchObject({ type, messageId, ...identity, ...fields })
    }
  )

  it.each(['/v1/batch', '/v1/import', '/v1/b'])(
    'POST %s takes a batch, with batch-level context, integrations and sentAt',
    async (path) => {
      const tag = path.slice(4)
      const answer = await call(started.url, 'POST', path, {
        headers: asJson,
        body: JSON.stringify({
          batch: [
            { type: 'identify', ...identity, messageId: `batch-${tag}-1`, traits: { plan: 'pro' } },
            { type: 'track', ...identity, messageId: `batch-${tag}-2`, event: 'Signed Up', context: { ip: '10.0.0.1' } }
          ],
          context: { library: { name: 'analytics-python', version: '2.3.0' } },
          integrations: { All: false, Tray: true },
          sentAt: '2026-11-20T10:00:05.000Z'
        })
      })
      expect([answer.status, JSON.parse(answer.body)]).toStrictEqual([200, { success: true }])
      const first = await deliveredFor(`batch-${tag}-1`, 1)
      const second = await deliveredFor(`batch-${tag}-2`, 1)
      // integrations: only Tray (by its slug, case-insensitively) is on.
      expect(first.map((record) => record.instance)).toStrictEqual(['tray', 'tray'])
      expect(trayBody(first)).toMatchObject({
        context: { library: { name: 'analytics-python', version: '2.3.0' } },
        integrations: { All: false, Tray: true }
      })
      // A message's own context wins over the batch's.
      expect(trayBody(second)?.context).toStrictEqual({ ip: '10.0.0.1' })
    }
  )

  it('takes text/plain (what the browser SDK sends) with the write key in the body, and removes the key', async () => {
    const answer = await call(started.url, 'POST', '/v1/t', {
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify({ ...identity, event: 'Viewed', messageId: 'plain-1', writeKey: WRITE_KEY })
    })
    expect(answer.status).toBe(200)
    const tray = trayBody(await deliveredFor('plain-1', 1))
    expect(tray).toMatchObject({ type: 'track', event: 'Viewed' })
    expect(tray).not.toHaveProperty('writeKey')
  })

  it('takes gzip bodies; refuses broken gzip and other encodings', async () => {
    const body = gzipSync(
      JSON.stringify({ batch: [{ type: 'track', ...identity, event: 'Zipped', messageId: 'gzip-1' }] })
    )
    const answer = await call(started.url, 'POST', '/v1/batch', {
      headers: { ...asJson, 'content-encoding': 'gzip' },
      body
    })
    expect(answer.status).toBe(200)
    expect(trayBody(await deliveredFor('gzip-1', 1))).toMatchObject({ event: 'Zipped' })
    const broken = await call(started.url, 'POST', '/v1/batch', {
      headers: { ...asJson, 'content-encoding': 'gzip' },
      body: Buffer.from('not gzip at all')
    })
    expect(broken.status).toBe(400)
    expect(JSON.parse(broken.body).error).toMatch(/^the body is not valid gzip/)
    const brotli = await call(started.url, 'POST', '/v1/batch', {
      headers: { ...asJson, 'content-encoding': 'br' },
      body: Buffer.from('x')
    })
    expect([brotli.status, JSON.parse(brotli.body).error]).toStrictEqual([
      415,
      'Content-Encoding br is not supported (gzip is)'
    ])
  })

  it('answers 401 without a write key or with one that is not configured', async () => {
    const body = JSON.stringify({ ...identity, event: 'E' })
    const none = await call(started.url, 'POST', '/v1/track', { headers: { 'content-type': 'application/json' }, body })
    expect([none.status, JSON.parse(none.body)]).toStrictEqual([
      401,
      { error: 'no write key: send it as the Basic-auth user name or as "writeKey" in the body' }
    ])
    const wrong = await call(started.url, 'POST', '/v1/track', {
      headers: { 'content-type': 'application/json', authorization: basic('not-a-configured-key') },
      body
    })
    expect([wrong.status, JSON.parse(wrong.body)]).toStrictEqual([401, { error: 'unknown write key' }])
    const inBody = await call(started.url, 'POST', '/v1/track', {
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ ...identity, event: 'E', writeKey: 'not-a-configured-key' })
    })
    expect(inBody.status).toBe(401)
    // CORS headers on refusals too, so a browser SDK reads the status instead of a network error.
    expect(wrong.headers['access-control-allow-origin']).toBe('*')
  })

  it('answers 400 for invalid JSON, a message over 32 KB and a batch over 500 KB (declared, chunked or gzipped); 415 for other types', async () => {
    const invalid = await call(started.url, 'POST', '/v1/batch', { headers: asJson, body: '{"batch": [' })
    expect(invalid.status).toBe(400)
    expect(JSON.parse(invalid.body).error).toMatch(/^the body is not valid JSON: /)

    const big = { ...identity, event: 'Big', properties: { blob: 'x'.repeat(33 * 1024) } }
    const message = await call(started.url, 'POST', '/v1/track', { headers: asJson, body: JSON.stringify(big) })
    expect(message.status).toBe(400)
    expect(JSON.parse(message.body).error).toMatch(
      /^message is 3\d{4} bytes; Segment's Tracking API takes at most 32768 bytes \(32 KB\) per message$/
    )
    const inBatch = await call(started.url, 'POST', '/v1/batch', {
      headers: asJson,
      body: JSON.stringify({
        batch: [
          { type: 'track', ...identity, event: 'Small' },
          { type: 'track', ...big }
        ]
      })
    })
    expect([inBatch.status, JSON.parse(inBatch.body).error]).toStrictEqual([
      400,
      expect.stringMatching(/^batch\[1\] is 3\d{4} bytes;/)
    ])

    const batch = {
      batch: Array.from({ length: 20 }, () => ({ type: 'track', ...identity, event: 'x'.repeat(30_000) }))
    }
    const text = JSON.stringify(batch)
    const expected = [400, "the request is over 512000 bytes; Segment's Tracking API takes at most 500 KB per request"]
    const declared = await call(started.url, 'POST', '/v1/batch', { headers: asJson, body: text })
    expect([declared.status, JSON.parse(declared.body).error]).toStrictEqual(expected)
    const chunked = await call(started.url, 'POST', '/v1/batch', {
      headers: asJson,
      chunks: [text.slice(0, 300_000), text.slice(300_000)]
    })
    expect([chunked.status, JSON.parse(chunked.body).error]).toStrictEqual(expected)
    const zipped = await call(started.url, 'POST', '/v1/batch', {
      headers: { ...asJson, 'content-encoding': 'gzip' },
      body: gzipSync(text)
    })
    expect([zipped.status, JSON.parse(zipped.body).error]).toStrictEqual(expected)

    const form = await call(started.url, 'POST', '/v1/track', {
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(WRITE_KEY) },
      body: 'a=b'
    })
    expect([form.status, JSON.parse(form.body).error]).toStrictEqual([
      415,
      'send Content-Type: application/json or text/plain (got application/x-www-form-urlencoded)'
    ])
    // None of these reached a vendor.
    expect(deliveries().filter((record) => JSON.stringify(record.body).includes('"Small"'))).toStrictEqual([])
  })

  it('rejects messages without an identity, a track without event, an alias without previousId: recorded, never delivered', async () => {
    const answer = await call(started.url, 'POST', '/v1/batch', {
      headers: asJson,
      body: JSON.stringify({
        batch: [
          { type: 'track', ...identity, event: 'Kept', messageId: 'reject-kept' },
          { type: 'track', event: 'No one', messageId: 'reject-identity', properties: { note: WRITE_KEY } },
          { type: 'track', ...identity, messageId: 'reject-event' },
          { type: 'alias', userId: 'u', messageId: 'reject-alias' },
          { type: 'purchase', ...identity, messageId: 'reject-type' },
          'not a message'
        ]
      })
    })
    expect([answer.status, JSON.parse(answer.body)]).toStrictEqual([200, { success: true }])
    await started.runtime.drain()
    expect(deliveries().filter((record) => record.eventIds.includes('reject-kept')).length).toBeGreaterThan(0)
    const listed = await call(started.url, 'GET', '/v1/tracking/rejected?limit=5')
    const { total, rejected } = JSON.parse(listed.body) as {
      total: number
      rejected: { reason: string; error: string; path: string; message: unknown; at: string }[]
    }
    expect(total).toBeGreaterThanOrEqual(5)
    expect(rejected.map(({ reason, error, path }) => ({ reason, error, path })).reverse()).toStrictEqual([
      {
        reason: 'no_identity',
        error: 'batch[1]: userId or anonymousId is required (a non-empty string)',
        path: '/v1/batch'
      },
      { reason: 'no_event', error: 'batch[2]: event is required on a track (a non-empty string)', path: '/v1/batch' },
      {
        reason: 'no_previous_id',
        error: 'batch[3]: previousId is required on an alias (a non-empty string)',
        path: '/v1/batch'
      },
      {
        reason: 'invalid_type',
        error: 'batch[4]: type must be one of identify, track, page, screen, group, alias',
        path: '/v1/batch'
      },
      { reason: 'not_an_object', error: 'batch[5]: must be a JSON object', path: '/v1/batch' }
    ])
    // The rejected message as sent, its secrets redacted.
    expect(rejected.at(-1)?.message).toStrictEqual({
      type: 'track',
      event: 'No one',
      messageId: 'reject-identity',
      properties: { note: '[REDACTED]' }
    })
    for (const id of ['reject-identity', 'reject-event', 'reject-alias', 'reject-type'])
      expect(deliveries().filter((record) => record.eventIds.includes(id))).toStrictEqual([])
    const metrics = await started.runtime.renderMetrics()
    expect(metrics).toMatch(/open_actions_tracking_messages_total\{outcome="rejected",reason="no_identity"\} [1-9]/)
    expect(
      started.logs.some((line) => line.includes('tracking API message rejected') && line.includes('no_event'))
    ).toBe(true)
  })
})

describe('Segment Tracking API: completion, integrations, write keys, dedupe', () => {
  it('completes messages as Segment does: messageId, receivedAt, timestamp (skew-corrected from sentAt)', async () => {
    const before = Date.now()
    await call(started.url, 'POST', '/v1/batch', {
      headers: asJson,
      body: JSON.stringify({
        batch: [
          { type: 'track', ...identity, event: 'No time', messageId: 'complete-1' },
          // The device's clock is 5 s behind: it sent at 10:00:05 by its own clock what happened at 10:00:00.
          {
            type: 'track',
            ...identity,
            event: 'Skewed',
            messageId: 'complete-2',
            timestamp: '2026-11-20T10:00:00.000Z'
          },
          { type: 'track', ...identity, event: 'Generated id', properties: { marker: 'complete-3' } }
        ],
        sentAt: '2026-11-20T10:00:05.000Z'
      })
    })
    const after = Date.now()
    const noTime = trayBody(await deliveredFor('complete-1', 1)) as Record<string, string>
    const receivedAt = Date.parse(noTime.receivedAt ?? '')
    expect(receivedAt).toBeGreaterThanOrEqual(before)
    expect(receivedAt).toBeLessThanOrEqual(after)
    expect(noTime.timestamp).toBe(noTime.receivedAt)
    const skewed = trayBody(await deliveredFor('complete-2', 1)) as Record<string, string>
    expect(skewed.originalTimestamp).toBe('2026-11-20T10:00:00.000Z')
    expect(Date.parse(skewed.timestamp ?? '')).toBe(Date.parse(skewed.receivedAt ?? '') - 5000)
    const generated = deliveries().find(
      (record) => record.url === TRAY_URL && JSON.stringify(record.body).includes('complete-3')
    )
    expect((generated?.body as { messageId: string }).messageId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
    )
  })

  it('honours integrations: All false with one on, or one off, by instance id, slug or definition name', async () => {
    const send = (messageId: string, integrations: Record<string, unknown>) =>
      call(started.url, 'POST', '/v1/track', {
        headers: asJson,
        body: JSON.stringify({ ...identity, event: 'Signed Up', messageId, integrations })
      })
    await send('integrations-1', { All: false, 'MoEngage (Actions)': true })
    await send('integrations-2', { moengage: false, Segment: false, 'Insider One Cloud Mode': false, OneSignal: false })
    await send('integrations-3', { All: false, TRAY: { some: 'option' } })
    const instances = async (id: string, count: number) =>
      [...new Set((await deliveredFor(id, count)).map((record) => record.instance))].sort()
    expect(await instances('integrations-1', 1)).toStrictEqual(['moengage'])
    expect(await instances('integrations-2', 2)).toStrictEqual(['tray'])
    expect(await instances('integrations-3', 2)).toStrictEqual(['tray'])
  })

  it('sends a write key’s messages only to its destinations', async () => {
    await call(started.url, 'POST', '/v1/track', {
      headers: { 'content-type': 'application/json', authorization: basic(TRAY_ONLY_KEY) },
      body: JSON.stringify({ ...identity, event: 'Signed Up', messageId: 'tray-only-1' })
    })
    await started.runtime.drain()
    expect([...new Set((await deliveredFor('tray-only-1', 2)).map((record) => record.instance))]).toStrictEqual([
      'tray'
    ])
  })

  it('delivers a messageId once: the SDK retrying the same batch is deduplicated', async () => {
    const body = JSON.stringify({ batch: [{ type: 'track', ...identity, event: 'Signed Up', messageId: 'dedupe-1' }] })
    const first = await call(started.url, 'POST', '/v1/batch', { headers: asJson, body })
    const retry = await call(started.url, 'POST', '/v1/batch', { headers: { ...asJson, 'x-retry-count': '1' }, body })
    expect([first.status, retry.status]).toStrictEqual([200, 200])
    await started.runtime.drain()
    const records = deliveries().filter((record) => record.eventIds.includes('dedupe-1'))
    // Sent once to each vendor URL that takes a track, and never twice within a batched request.
    expect(records.length).toBeGreaterThan(0)
    expect(new Set(records.map((record) => record.url)).size).toBe(records.length)
    for (const record of records) expect(record.eventIds.filter((id) => id === 'dedupe-1')).toHaveLength(1)
  })

  it('keeps write keys out of captured requests, rejected messages and logs', async () => {
    await started.runtime.drain()
    const shown = JSON.stringify({ deliveries: deliveries(), rejected: started.runtime.rejectedMessages.list(500) })
    for (const secret of [...SAMPLE_SECRETS, TRAY_ONLY_KEY]) {
      expect(shown).not.toContain(secret)
      expect(started.logs.join('\n')).not.toContain(secret)
    }
    expect(started.logs.join('\n')).not.toContain(Buffer.from(`${WRITE_KEY}:`).toString('base64'))
  })
})

describe('Segment Tracking API: who may call', () => {
  it('answers the browser’s preflight from any origin with the methods and headers the SDKs send', async () => {
    for (const path of ['/v1/i', '/v1/batch', '/v1/b']) {
      const answer = await call(started.url, 'OPTIONS', path, {
        headers: {
          origin: 'https://shop.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type,x-retry-count'
        }
      })
      expect(answer.status).toBe(204)
      expect(answer.headers['access-control-allow-origin']).toBe('*')
      expect(answer.headers['access-control-allow-methods']).toBe('POST')
      expect(answer.headers['access-control-allow-headers']).toBe('Authorization,Content-Type,X-Retry-Count')
    }
  })

  it('takes messages whatever the Host and Origin, while admin routes keep their rules', async () => {
    const answer = await call(started.url, 'POST', '/v1/t', {
      headers: { ...asJson, host: 'collect.shop.example', origin: 'https://shop.example' },
      body: JSON.stringify({ ...identity, event: 'Cross origin', messageId: 'cross-1' })
    })
    expect(answer.status).toBe(200)
    expect(
      (await call(started.url, 'GET', '/v1/tracking/rejected', { headers: { host: 'evil.example' } })).status
    ).toBe(421)
    const events = await call(started.url, 'POST', '/v1/events', {
      headers: { 'content-type': 'application/json', origin: 'https://shop.example' },
      body: JSON.stringify({ type: 'track', ...identity, event: 'E' })
    })
    expect(events.status).toBe(403)
    expect((await call(started.url, 'GET', '/v1/track')).status).toBe(405)
  })

  it('needs no bearer token when one guards the admin routes', async () => {
    const server = createRuntimeServer(started.runtime, { host: '127.0.0.1', token: 'admin-token-1234' })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    try {
      const answer = await call(base, 'POST', '/v1/track', {
        headers: asJson,
        body: JSON.stringify({ ...identity, event: 'Token mode', messageId: 'token-1' })
      })
      expect(answer.status).toBe(200)
      expect((await call(base, 'GET', '/v1/tracking/rejected')).status).toBe(401)
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
