import { mkdirSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from '@jest/globals'
// The factories alone: the package index loads nock, which patches http.ClientRequest and would bypass the runtime's agents.
import * as events from '@open-actions/testing/events'
import type { EventResult } from './store/results'
import type { DeliveryRecord } from './transport/recorder'
import { getJson, postJson, SAMPLE_SECRETS, startTestRuntime, temporaryStateDir } from './runtime-harness.test-helpers'
import { sampleConfig } from './sample-config'
import type { OpenActionsRuntime } from './runtime'
import { createRuntimeServer } from './server/app'
import type { StartedRuntime } from './start'

let running: (StartedRuntime & { logs: string[] }) | undefined
afterEach(async () => {
  await running?.stop()
  running = undefined
})

async function start(overrides = {}) {
  running = await startTestRuntime(overrides)
  return running
}

function expectNoSecrets(text: string): void {
  for (const secret of SAMPLE_SECRETS) expect(text).not.toContain(secret)
  expect(text).not.toContain(Buffer.from('SANDBOXWS01:sandbox-moengage-data-key').toString('base64'))
  expect(text).not.toContain(Buffer.from('sandbox-segment-write-key:').toString('base64'))
}

async function settle(runtime: OpenActionsRuntime): Promise<void> {
  await runtime.drain()
}

describe('the runtime over HTTP, sample configuration, sandbox', () => {
  it('delivers an identify to every destination and shows the exact requests, secrets redacted', async () => {
    const { url, runtime } = await start()
    const identify = events.identifyEvent({ messageId: 'e2e-identify-1' })
    const accepted = await postJson(`${url}/v1/events`, identify)
    expect(accepted.status).toBe(202)
    await settle(runtime)
    const { body } = await getJson(`${url}/v1/deliveries?eventId=e2e-identify-1&limit=50`)
    const deliveries = (body as { deliveries: DeliveryRecord[] }).deliveries
    const byUrl = Object.fromEntries(deliveries.map((record) => [`${record.method} ${record.url}`, record]))
    expect(Object.keys(byUrl).sort()).toStrictEqual(
      [
        'PATCH https://api.onesignal.com/apps/00000000-0000-4000-8000-000000000001/users/by/external_id/user-1234',
        'POST https://0d4f2a1e-sandbox-one.trayapp.io/',
        'POST https://1b5e3c2f-sandbox-two.trayapp.io/',
        'POST https://api-01.moengage.com/v1/transition/SANDBOXWS01',
        'POST https://api.segment.io/v1/batch',
        'POST https://unification.useinsider.com/api/user/v1/upsert'
      ].sort()
    )
    const insider = byUrl['POST https://unification.useinsider.com/api/user/v1/upsert']
    expect(insider?.headers).toMatchObject({
      'x-partner-name': 'sandboxstore',
      'x-request-token': '[REDACTED]',
      'x-platform-name': 'segment'
    })
    expect(insider?.body).toMatchObject({
      platform: 'segment',
      users: [{ identifiers: { uuid: 'user-1234', email: 'jane.doe@example.com', phone_number: '+14155550100' } }]
    })
    expect(insider?.response).toMatchObject({ status: 200, body: { data: { fail: { count: 0 } } } })
    expect(byUrl['POST https://api-01.moengage.com/v1/transition/SANDBOXWS01']?.body).toMatchObject({
      type: 'transition',
      elements: [{ type: 'customer', customer_id: 'user-1234' }]
    })
    expect(byUrl['POST https://api.segment.io/v1/batch']?.body).toMatchObject({
      batch: [{ type: 'identify', userId: 'user-1234', messageId: 'e2e-identify-1' }]
    })
    expect(byUrl['POST https://api.segment.io/v1/batch']?.headers.authorization).toBe('[REDACTED]')
    // The whole message, completed as Segment's API completes it: with sentAt, the client's timestamp is kept as
    // originalTimestamp and corrected for clock skew (none here).
    expect(byUrl['POST https://0d4f2a1e-sandbox-one.trayapp.io/']?.body).toStrictEqual({
      ...identify,
      originalTimestamp: identify.timestamp
    })
    expectNoSecrets(JSON.stringify(body))
    const result = (await getJson(`${url}/v1/events/e2e-identify-1`)).body as EventResult
    expect(result.targets.map((target) => [target.instance, target.status]).sort()).toStrictEqual(
      [
        ['insider', 'delivered'],
        ['moengage', 'delivered'],
        ['onesignal', 'delivered'],
        ['segment', 'delivered'],
        ['tray', 'delivered']
      ].sort()
    )
  })

  it('sends exactly one request per delivery against chunked simulators, over each instance’s own connections', async () => {
    const { runtime } = await start({ sandbox: { chunked: true }, delivery: { maxConcurrent: 4 } })
    const sent = Array.from({ length: 300 }, (_, index) =>
      index % 3 === 0
        ? events.identifyEvent({ messageId: `chunked-${index}`, userId: `u-${index}` })
        : index % 3 === 1
          ? events.orderCompletedEvent({ messageId: `chunked-${index}`, userId: `u-${index}` })
          : events.pageEvent({ messageId: `chunked-${index}`, userId: `u-${index}` })
    )
    await runtime.ingestEvents(sent)
    await settle(runtime)
    expect(runtime.totals.retries).toBe(0)
    expect(runtime.totals.deadLettered).toBe(0)
    expect(runtime.totals.delivered).toBeGreaterThan(300)
    // What the runtime sent is what the simulators received: no request repeated or lost on a reused connection.
    expect(runtime.sandbox.counters.requests).toBe(runtime.recorder.total)
    const lanes = [...runtime.lanes.values()]
    const opened = lanes.reduce((sum, lane) => sum + lane.transport.counters.connections, 0)
    expect(runtime.sandbox.counters.connections).toBe(opened)
    const instances = (await getJson(`${running?.url}/v1/instances`)).body as {
      destinations: { id: string; client: string; maxConcurrent: number }[]
    }
    expect(instances.destinations.map(({ id, client, maxConcurrent }) => [id, client, maxConcurrent])).toStrictEqual(
      runtime.config.destinations.map((instance) => [instance.id, 'runtime', 4])
    )
    // Per instance: at most maxConcurrent connections per vendor host it calls (Tray calls two workflow hosts).
    for (const lane of lanes) expect(lane.transport.counters.connections).toBeLessThanOrEqual(lane.maxConcurrent * 2)
    expect(opened).toBeLessThan(runtime.recorder.total)
  })

  it('retries 5xx bursts and honours Retry-After, then delivers once', async () => {
    const { url, runtime } = await start()
    await postJson(`${url}/v1/sandbox/faults`, { host: 'api.onesignal.com', status: 503, times: 2 })
    await postJson(`${url}/v1/sandbox/faults`, { host: '*.trayapp.io', status: 429, retryAfterSeconds: 0.03, times: 1 })
    await postJson(`${url}/v1/events`, events.identifyEvent({ messageId: 'e2e-retry-1' }))
    await settle(runtime)
    const result = (await getJson(`${url}/v1/events/e2e-retry-1`)).body as EventResult
    const onesignal = result.targets.find((target) => target.instance === 'onesignal')
    expect(onesignal).toMatchObject({ status: 'delivered', attempts: 3 })
    const tray = result.targets.find((target) => target.instance === 'tray')
    expect(tray).toMatchObject({ status: 'delivered', attempts: 2 })
    const trayRequests = runtime.recorder.list({ instance: 'tray', eventId: 'e2e-retry-1' })
    // The first attempt reached two workflows (one answered 429); the retry reached only the one that failed.
    expect(trayRequests).toHaveLength(3)
    expect(await runtime.metrics.render()).toMatch(
      /open_actions_retries_total\{action="identifyUser",instance="onesignal"\} 2/
    )
  })

  it('dead-letters what cannot be delivered, with its reason, and replays it', async () => {
    const { url, runtime } = await start()
    await postJson(`${url}/v1/sandbox/faults`, {
      host: 'api.onesignal.com',
      status: 400,
      body: { errors: ['tags must be a flat object'] },
      times: 1
    })
    await postJson(`${url}/v1/sandbox/faults`, { host: 'unification.useinsider.com', status: 503 })
    await postJson(`${url}/v1/events`, events.identifyEvent({ messageId: 'e2e-dead-1' }))
    await settle(runtime)
    const letters = (
      (await getJson(`${url}/v1/dead-letters`)).body as {
        deadLetters: { id: string; instance: string; reason: string; attempts: number; status: number }[]
      }
    ).deadLetters
    expect(letters.map((letter) => [letter.instance, letter.status, letter.attempts]).sort()).toStrictEqual([
      ['insider', 503, 4],
      ['onesignal', 400, 1]
    ])
    expect(letters.find((letter) => letter.instance === 'onesignal')?.reason).toBe(
      'OneSignal rejected the request (HTTP 400): tags must be a flat object'
    )
    expect(letters.find((letter) => letter.instance === 'insider')?.reason).toMatch(/^gave up after 4 attempts: /)
    expect(await postJson(`${url}/v1/dead-letters/replay`, { ids: letters[0]?.id })).toMatchObject({
      status: 400,
      body: { error: 'invalid request' }
    })

    await fetch(`${url}/v1/sandbox/faults`, { method: 'DELETE' })
    const replay = await postJson(`${url}/v1/dead-letters/replay`, {})
    expect(replay).toStrictEqual({ status: 202, body: { replayed: 2, notReplayable: 0, notFound: [] } })
    await settle(runtime)
    expect(((await getJson(`${url}/v1/dead-letters`)).body as { deadLetters: unknown[] }).deadLetters).toStrictEqual([])
    const result = (await getJson(`${url}/v1/events/e2e-dead-1`)).body as EventResult
    expect(result.targets.every((target) => target.status === 'delivered')).toBe(true)
  })

  it('turns a connection reset into a retry, and a dropped batch item into a per-event result', async () => {
    const { url, runtime } = await start()
    await postJson(`${url}/v1/sandbox/faults`, { host: 'api.segment.io', reset: true, times: 1 })
    await postJson(`${url}/v1/events`, [
      events.trackEvent('Reset 1', {}, { messageId: 'e2e-reset-1' }),
      events.trackEvent('Reset 2', {}, { messageId: 'e2e-reset-2' })
    ])
    await settle(runtime)
    for (const id of ['e2e-reset-1', 'e2e-reset-2']) {
      const segment = ((await getJson(`${url}/v1/events/${id}`)).body as EventResult).targets.find(
        (target) => target.instance === 'segment'
      )
      expect(segment).toMatchObject({ status: 'delivered', attempts: 2 })
    }
  })

  it('serves the OneSignal and One Creation sources into Segment', async () => {
    const { url, runtime } = await start()
    // What a OneSignal Event Stream posts with the body template of the package's README, rendered.
    const pushSent = {
      event: {
        kind: 'message.push.clicked',
        id: 'evt-1',
        timestamp: 1714564800,
        datetime: '2024-05-01T12:00:00.000Z',
        app_id: '00000000-0000-4000-8000-000000000001',
        external_id: 'user-1234',
        subscription_id: 'sub-1',
        onesignal_id: 'os-1',
        subscription_device_type: 'iOS',
        data: { page_name: '', page_id: '', target_name: '', target_id: '' }
      },
      message: { id: 'msg-1', name: 'Spring sale', title: '', contents: '', template_id: '' },
      subscription: { language: 'en' }
    }
    const onesignal = await postJson(`${url}/v1/sources/onesignal`, pushSent)
    expect(onesignal).toMatchObject({
      status: 202,
      body: {
        source: 'onesignal',
        messages: 1,
        results: [
          {
            eventId: 'onesignal-evt-1',
            targets: [{ instance: 'source:onesignal', action: 'deliverToSegment', status: 'queued', attempts: 0 }]
          }
        ]
      }
    })
    const oneCreation = await postJson(`${url}/v1/sources/one-creation`, {
      type: 'submitted',
      response_id: 'r-1',
      user_id: 'oc-1',
      campaign: { id: 'c-1', name: 'Spring' },
      response_at: '2024-05-01T12:00:00.000Z',
      answers: { 'Favourite Colour?': 'green' }
    })
    expect(oneCreation).toMatchObject({ status: 202, body: { source: 'one-creation', messages: 2 } })
    await settle(runtime)
    const sourceResult = (await getJson(`${url}/v1/events/onesignal-evt-1`)).body as EventResult
    expect(sourceResult.targets).toMatchObject([{ instance: 'source:onesignal', status: 'delivered', attempts: 1 }])
    const deliveries = (
      (await getJson(`${url}/v1/deliveries?instance=source:onesignal`)).body as { deliveries: DeliveryRecord[] }
    ).deliveries
    expect(deliveries[0]?.body).toMatchObject({
      batch: [
        {
          type: 'track',
          event: 'Push Clicked',
          userId: 'user-1234',
          anonymousId: 'sub-1',
          messageId: 'onesignal-evt-1',
          timestamp: '2024-05-01T12:00:00.000Z'
        }
      ]
    })
    const bad = await postJson(`${url}/v1/sources/onesignal`, {
      event: { kind: 'message.fax.sent', id: 'x' },
      user: { external_id: 'u' }
    })
    expect(bad.status).toBe(400)
    expect((bad.body as { error: string }).error).toMatch(
      /^event\.kind "message\.fax\.sent" is not a OneSignal message event/
    )
    expect((await postJson(`${url}/v1/sources/nope`, {})).status).toBe(404)
  })

  it('answers bad input with a clear 4xx and keeps serving', async () => {
    const { url } = await start()
    expect(await postJson(`${url}/v1/events`, '{"type":')).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/^the body is not valid JSON/) }
    })
    const wrongType = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{}'
    })
    expect(wrongType.status).toBe(415)
    expect(await postJson(`${url}/v1/events`, { event: 'no type' })).toMatchObject({
      status: 400,
      body: { error: 'event 0 is not a Segment event: it must be an object with a string "type"' }
    })
    expect(await postJson(`${url}/v1/events`, [])).toMatchObject({ status: 400 })
    const huge = await postJson(`${url}/v1/events`, {
      type: 'track',
      event: 'x',
      properties: { blob: 'x'.repeat(1_100_000) }
    })
    expect(huge.status).toBe(413)
    expect((await getJson(`${url}/v1/nothing-here`)).status).toBe(404)
    expect((await getJson(`${url}/v1/events/unknown-id`)).status).toBe(404)
    expect(await postJson(`${url}/v1/sandbox/faults`, { host: 'x', status: 'bad' })).toMatchObject({ status: 400 })
    expect((await getJson(`${url}/health`)).body).toMatchObject({ status: 'ok', transport: 'sandbox' })
  })

  it('exposes Prometheus metrics and logs without secrets', async () => {
    const { url, runtime, logs } = await start()
    await postJson(`${url}/v1/sandbox/faults`, { host: 'api-01.moengage.com', status: 500, times: 1 })
    await postJson(`${url}/v1/events`, events.identifyEvent({ messageId: 'e2e-metrics-1' }))
    await settle(runtime)
    const metrics = await (await fetch(`${url}/metrics`)).text()
    expect(metrics).toContain('# TYPE open_actions_events_received_total counter')
    expect(metrics).toMatch(/open_actions_events_received_total\{type="identify"\} 1/)
    expect(metrics).toMatch(
      /open_actions_deliveries_total\{action="updateUserProfile",instance="insider",outcome="delivered"\} 1/
    )
    expectNoSecrets(metrics)
    expectNoSecrets(logs.join(''))
    expect(logs.some((line) => line.includes('"msg":"delivery failed; retrying"'))).toBe(true)
  })

  it('runs the event tester against the simulators, secrets typed in redacted', async () => {
    const { url } = await start()
    const report = await postJson(`${url}/v1/test`, {
      integration: 'insider',
      settings: { account_name: 'MyStore', ucd_key: 'typed-in-secret-123' },
      event: events.orderCompletedEvent({ messageId: 'tester-1' })
    })
    expect(report.status).toBe(200)
    const text = JSON.stringify(report.body)
    expect(text).not.toContain('typed-in-secret-123')
    const subscriptions = (
      report.body as {
        subscriptions: { partnerAction: string; matched: boolean; requests: DeliveryRecord[]; payload: unknown }[]
      }
    ).subscriptions
    const matched = subscriptions.filter((subscription) => subscription.matched)
    expect(matched.map((subscription) => subscription.partnerAction)).toStrictEqual(['orderCompletedEvent'])
    expect(matched[0]?.requests[0]).toMatchObject({
      url: 'https://unification.useinsider.com/api/user/v1/upsert',
      headers: { 'x-request-token': '[REDACTED]' },
      response: { status: 200 }
    })
    expect(matched[0]?.payload).toMatchObject({ order_id: '50314b8e9bcf000000000000' })
    const invalid = await postJson(`${url}/v1/test`, {
      integration: 'insider',
      settings: { account_name: 'MyStore', ucd_key: 'k' },
      event: events.trackEvent('Cart Viewed', { cart_id: 'c-1', products: [{ product_id: 'p', price: 3 }] })
    })
    const cart = (
      invalid.body as { subscriptions: { partnerAction: string; error?: { message: string } }[] }
    ).subscriptions.find((subscription) => subscription.partnerAction === 'cartViewedEvent')
    expect(cart?.error?.message).toMatch(/events\[0\]\.event_params\.currency is required for cart_page_view events/)
  })

  it('refuses to listen beyond loopback without a token, and checks the token when set', async () => {
    const { runtime } = await start()
    expect(() => createRuntimeServer(runtime, { host: '0.0.0.0' })).toThrow(
      'Refusing to listen on 0.0.0.0 without a token: set OPEN_ACTIONS_TOKEN, or bind to 127.0.0.1'
    )
    const guarded = createRuntimeServer(runtime, { host: '127.0.0.1', token: 'runtime-token' })
    await new Promise<void>((resolve) => guarded.listen(0, '127.0.0.1', resolve))
    const base = `http://127.0.0.1:${(guarded.address() as AddressInfo).port}`
    try {
      expect((await fetch(`${base}/v1/catalog`)).status).toBe(401)
      expect((await fetch(`${base}/v1/catalog`, { headers: { authorization: 'Bearer runtime-token' } })).status).toBe(
        200
      )
      expect((await fetch(`${base}/health`)).status).toBe(200)
    } finally {
      await new Promise((resolve) => guarded.close(resolve))
    }
  })
})

describe('accept = commit', () => {
  it('answers 202 once committed, with every target queued, before any vendor is called', async () => {
    const { url, runtime } = await start()
    for (const host of [
      'unification.useinsider.com',
      'api-01.moengage.com',
      'api.onesignal.com',
      'api.segment.io',
      '*.trayapp.io'
    ])
      await postJson(`${url}/v1/sandbox/faults`, { host, delayMs: 60_000 })
    const started = Date.now()
    const accepted = await postJson(`${url}/v1/events`, [
      events.identifyEvent({ messageId: 'commit-1' }),
      events.trackEvent('Committed', {}, { messageId: 'commit-2' })
    ])
    expect(Date.now() - started).toBeLessThan(30_000)
    expect(accepted.status).toBe(202)
    const results = (accepted.body as { results: EventResult[] }).results
    expect(results.map((result) => result.eventId)).toStrictEqual(['commit-1', 'commit-2'])
    expect(results.flatMap((result) => result.targets.map((target) => [target.status, target.attempts]))).toStrictEqual(
      Array.from({ length: 10 }, () => ['queued', 0])
    )
    // The same shape as a look-up.
    expect(((await getJson(`${url}/v1/events/commit-2`)).body as EventResult).targets).toHaveLength(5)
    // No vendor has answered anything yet: the answer did not wait for them.
    expect(runtime.sandbox.accepted).toStrictEqual([])
  })

  it('validates the whole request first: one bad event (too deep, too big, wrong type) and nothing of it is kept', async () => {
    const { url, runtime } = await start()
    // 10,000 levels: written as text, since JSON.stringify itself cannot go that deep.
    const deep = `${'{"nested":'.repeat(10_000)}"bottom"${'}'.repeat(10_000)}`
    const refused = await postJson(
      `${url}/v1/events`,
      `[${JSON.stringify(events.identifyEvent({ messageId: 'valid-beside-deep' }))},{"type":"track","event":"Deep","properties":${deep}}]`
    )
    expect(refused.status).toBe(400)
    expect((refused.body as { error: string }).error).toMatch(
      /^event 1: properties\.nested\.nested.*\.nested is nested more than 64 levels deep$/
    )
    const tooBig = await postJson(`${url}/v1/events`, [
      events.identifyEvent({ messageId: 'valid-beside-big' }),
      events.trackEvent('Big', { blob: 'x'.repeat(40_000) })
    ])
    expect(tooBig).toMatchObject({
      status: 413,
      body: { error: expect.stringMatching(/^event 1 is \d+ bytes; at most 32768 bytes per event$/) }
    })
    const badType = await postJson(`${url}/v1/events`, { type: 'purchase', userId: 'u' })
    expect(badType).toMatchObject({
      status: 400,
      body: { error: 'event 0: type "purchase" is not one of identify, track, page, screen, group, alias' }
    })
    expect((await getJson(`${url}/v1/events/valid-beside-deep`)).status).toBe(404)
    expect((await getJson(`${url}/v1/events/valid-beside-big`)).status).toBe(404)
    expect(runtime.store.backlog).toBe(0)
  })

  it('completes events without timestamp or messageId as Segment’s API does, so no vendor dead-letters them', async () => {
    const { url, runtime } = await start()
    // What a replay file exported without timestamps holds: no timestamp, no sentAt, no receivedAt, no messageId.
    const bare = [
      events.identifyEvent({ messageId: 'bare-identify' }),
      events.trackEvent(
        'Order Completed',
        { order_id: 'o-bare', total: 20, currency: 'USD' },
        { messageId: 'bare-order' }
      ),
      events.trackEvent('Signed Up', {}, {})
    ].map(({ timestamp: _t, sentAt: _s, receivedAt: _r, ...event }) => event)
    const { messageId: _m, ...withoutId } = bare[2] as Record<string, unknown>
    const before = Date.now()
    const accepted = await postJson(`${url}/v1/events`, [bare[0], bare[1], withoutId])
    expect(accepted.status).toBe(202)
    const generated = (accepted.body as { results: EventResult[] }).results[2]?.eventId
    expect(generated).toMatch(/^[0-9a-f-]{36}$/)
    await settle(runtime)
    expect((await runtime.deadLetters({ limit: 10 })).deadLetters).toStrictEqual([])
    for (const id of ['bare-identify', 'bare-order', generated ?? '']) {
      const result = await runtime.result(id)
      expect(result?.targets.length).toBeGreaterThan(0)
      expect(result?.targets.every((target) => target.status === 'delivered')).toBe(true)
    }
    const tray = runtime.recorder.list({ instance: 'tray', eventId: 'bare-order' })[0]?.body as Record<string, string>
    expect(tray.timestamp).toBe(tray.receivedAt)
    expect(Date.parse(tray.receivedAt ?? '')).toBeGreaterThanOrEqual(before)
  })

  it('accepts a repeated messageId but delivers it once (dedupe window)', async () => {
    const { url, runtime } = await start()
    const event = events.trackEvent('Deduplicated', {}, { messageId: 'dedupe-1' })
    expect((await postJson(`${url}/v1/events`, event)).status).toBe(202)
    const again = await postJson(`${url}/v1/events`, event)
    expect(again).toMatchObject({ status: 202, body: { results: [{ eventId: 'dedupe-1', duplicate: true }] } })
    await settle(runtime)
    expect(runtime.recorder.list({ instance: 'segment', eventId: 'dedupe-1' })).toHaveLength(1)
    expect(runtime.recorder.list({ instance: 'tray', eventId: 'dedupe-1' })).toHaveLength(2)
  })

  it('refuses with 503 and Retry-After past maxBacklogEvents, never with unbounded memory', async () => {
    const { url } = await start({ maxBacklogEvents: 12 })
    await postJson(`${url}/v1/sandbox/faults`, { host: 'api.onesignal.com', delayMs: 60_000 })
    expect(
      (
        await postJson(`${url}/v1/events`, [
          events.identifyEvent({ messageId: 'full-1' }),
          events.identifyEvent({ messageId: 'full-2' })
        ])
      ).status
    ).toBe(202)
    const response = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(events.identifyEvent({ messageId: 'full-3' }))
    })
    expect(response.status).toBe(503)
    expect(response.headers.get('retry-after')).toBe('5')
    expect(await response.json()).toStrictEqual({
      error: 'the delivery backlog is full (10 of at most 12 pending deliveries, maxBacklogEvents); retry later'
    })
    await fetch(`${url}/v1/sandbox/faults`, { method: 'DELETE' })
  })

  it('pages and filters dead letters, reports them per instance in metrics, and refuses a malformed replay', async () => {
    const { url, runtime } = await start()
    await postJson(`${url}/v1/sandbox/faults`, { host: 'api.segment.io', status: 400, body: { message: 'nope' } })
    await postJson(
      `${url}/v1/events`,
      Array.from({ length: 5 }, (_, index) => events.trackEvent('Refused', {}, { messageId: `letter-${index}` }))
    )
    await settle(runtime)
    const first = (await getJson(`${url}/v1/dead-letters?limit=2&instance=segment`)).body as {
      deadLetters: { eventId: string }[]
      nextCursor: string
    }
    expect(first.deadLetters.map((letter) => letter.eventId)).toStrictEqual(['letter-4', 'letter-3'])
    const second = (await getJson(`${url}/v1/dead-letters?limit=2&instance=segment&cursor=${first.nextCursor}`))
      .body as {
      deadLetters: { eventId: string }[]
    }
    expect(second.deadLetters.map((letter) => letter.eventId)).toStrictEqual(['letter-2', 'letter-1'])
    expect(
      ((await getJson(`${url}/v1/dead-letters?reason=nope&limit=100`)).body as { deadLetters: unknown[] }).deadLetters
    ).toHaveLength(5)
    expect(
      ((await getJson(`${url}/v1/dead-letters?instance=tray`)).body as { deadLetters: unknown[] }).deadLetters
    ).toHaveLength(0)
    expect((await getJson(`${url}/v1/dead-letters?limit=0`)).status).toBe(400)
    expect((await getJson(`${url}/v1/dead-letters?colour=red`)).status).toBe(400)
    expect(await postJson(`${url}/v1/dead-letters/replay`, { ids: 'letter-1' })).toMatchObject({ status: 400 })
    const metrics = await (await fetch(`${url}/metrics`)).text()
    expect(metrics).toMatch(/^open_actions_dead_letters\{instance="segment"\} 5$/m)
    expect(metrics).toMatch(/^open_actions_backlog_deliveries 0$/m)
    expect(metrics).toMatch(/^open_actions_oldest_pending_age_seconds 0$/m)
    expect((await getJson(`${url}/health`)).body).toMatchObject({
      status: 'ok',
      backlog: 0,
      deadLetters: 5,
      store: { kind: 'sqlite', ok: true }
    })
  })
})

describe('across restarts (same state directory)', () => {
  it('imports an earlier release’s dead-letter file once, and dead-letters deliveries of instances no longer configured', async () => {
    const stateDir = temporaryStateDir()
    mkdirSync(stateDir, { recursive: true })
    const letter = {
      kind: 'dead-letter',
      id: '0b5c3a8e-0000-4000-8000-000000000001',
      // Within the dead letters' retention (30 days), or the first prune would remove it.
      at: new Date(Date.now() - 24 * 60 * 60 * 1000).toISOString(),
      instance: 'segment',
      partnerAction: 'sendTrack',
      subscription: 'Send Track',
      eventId: 'from-file-1',
      event: events.trackEvent('From File', {}, { messageId: 'from-file-1' }),
      status: 400,
      reason: 'Segment rejected the request (HTTP 400)',
      attempts: 1
    }
    writeFileSync(
      join(stateDir, 'dead-letters.ndjson'),
      `${JSON.stringify(letter)}\n${JSON.stringify({ ...letter, id: 'replayed-one' })}\n${JSON.stringify({ kind: 'replayed', id: 'replayed-one', at: letter.at })}\n{"torn`
    )
    const first = await start({ stateDir })
    const listed = (await getJson(`${first.url}/v1/dead-letters`)).body as {
      deadLetters: { id: string; integration: string }[]
    }
    expect(listed.deadLetters.map((entry) => [entry.id, entry.integration])).toStrictEqual([[letter.id, 'segment']])
    await postJson(`${first.url}/v1/sandbox/faults`, { host: 'api.segment.io', delayMs: 60_000 })
    await postJson(`${first.url}/v1/events`, events.trackEvent('Orphaned', {}, { messageId: 'orphan-1' }))
    await running?.stop()
    running = undefined
    // The segment instance is gone from the new configuration: its pending delivery is dead-lettered, not dropped.
    const second = await start({
      stateDir,
      destinations: (sampleConfig.destinations ?? []).filter((destination) => destination.id !== 'segment')
    })
    const letters = (await getJson(`${second.url}/v1/dead-letters`)).body as {
      deadLetters: { eventId: string; reason: string }[]
    }
    expect(letters.deadLetters.map((entry) => [entry.eventId, entry.reason])).toStrictEqual([
      [
        'orphan-1',
        'not delivered: the configuration no longer has instance "segment" with action "sendTrack" (subscription "Send Track")'
      ],
      ['from-file-1', 'Segment rejected the request (HTTP 400)']
    ])
    const replay = await postJson(`${second.url}/v1/dead-letters/replay`, {})
    expect(replay.body).toStrictEqual({ replayed: 0, notReplayable: 2, notFound: [] })
  })
})
