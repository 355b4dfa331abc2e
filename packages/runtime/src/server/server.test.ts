import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import * as events from '@open-actions/testing/events'
import { call, startTestRuntime } from '../runtime-harness.test-helpers'
import type { StartedRuntime } from '../start'
import { createRuntimeServer } from './app'

/*
 * Who may call what, over real HTTP (node:http, so tests can send any Host, Origin or chunked body a browser or an
 * attacker could). The runtime behind is the sample configuration in sandbox mode.
 */

const json = { 'content-type': 'application/json' }

/** Every admin and API route, with a request that would otherwise succeed or fail on its own merits. */
const ADMIN_ROUTES: readonly [string, string, string?][] = [
  ['GET', '/v1/catalog'],
  ['GET', '/v1/instances'],
  ['GET', '/v1/deliveries'],
  ['GET', '/v1/dead-letters'],
  ['GET', '/v1/stats'],
  ['GET', '/v1/sandbox/faults'],
  ['GET', '/v1/events/some-id'],
  ['GET', '/metrics'],
  ['POST', '/v1/events', JSON.stringify(events.identifyEvent({ messageId: 'host-check' }))],
  ['POST', '/v1/test', JSON.stringify({ integration: 'segment', event: events.identifyEvent() })],
  ['POST', '/v1/dead-letters/replay', '{}'],
  ['POST', '/v1/sources/onesignal', '{}'],
  ['POST', '/v1/sandbox/faults', JSON.stringify({ host: 'x.example', status: 500 })],
  ['DELETE', '/v1/sandbox/faults']
]

describe('the HTTP API without a token (loopback)', () => {
  let started: StartedRuntime
  beforeAll(async () => {
    started = await startTestRuntime()
  })
  afterAll(() => started.stop())

  it.each(ADMIN_ROUTES.map(([method, path, body]) => [method, path, body ?? ''] as const))(
    '%s %s: 421 for a Host that is not one of this server’s names',
    async (method, path, body) => {
      const answer = await call(started.url, method, path, {
        headers: { ...json, host: 'attacker.example:3700' },
        ...(body ? { body } : {})
      })
      expect(answer.status).toBe(421)
      expect(JSON.parse(answer.body)).toStrictEqual({
        error:
          'this server does not answer for the host "attacker.example" (it answers for: 127.0.0.1, localhost, [::1]; add names with server.allowedHosts)'
      })
    }
  )

  it('answers for its loopback names, and serves the console only to them', async () => {
    const port = new URL(started.url).port
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`])
      expect((await call(started.url, 'GET', '/v1/catalog', { headers: { host } })).status).toBe(200)
    expect((await call(started.url, 'GET', '/', { headers: { host: 'rebound.example' } })).status).toBe(421)
    // /health is for probes that reach the port by any name; it shows counts only.
    expect((await call(started.url, 'GET', '/health', { headers: { host: '10.1.2.3:3700' } })).status).toBe(200)
  })

  it('refuses state-changing requests from another origin (Origin, Sec-Fetch-Site), accepts same-origin ones', async () => {
    const body = JSON.stringify(events.identifyEvent({ messageId: 'origin-check' }))
    const foreign = await call(started.url, 'POST', '/v1/events', {
      headers: { ...json, origin: 'https://attacker.example' },
      body
    })
    expect(foreign.status).toBe(403)
    expect(JSON.parse(foreign.body).error).toBe(
      'requests from another origin are refused here (Origin: https://attacker.example)'
    )
    const otherPort = await call(started.url, 'POST', '/v1/sandbox/faults', {
      headers: { ...json, origin: 'http://127.0.0.1:1' },
      body: JSON.stringify({ host: 'x.example', status: 500 })
    })
    expect(otherPort.status).toBe(403)
    const crossSite = await call(started.url, 'DELETE', '/v1/sandbox/faults', {
      headers: { 'sec-fetch-site': 'same-site' }
    })
    expect(crossSite.status).toBe(403)
    const same = await call(started.url, 'POST', '/v1/events', {
      headers: { ...json, origin: started.url, 'sec-fetch-site': 'same-origin' },
      body
    })
    expect(same.status).toBe(202)
    // Reading is not state-changing: a GET with a foreign Origin is answered (the browser's CORS rule keeps it from
    // the foreign page: no Access-Control-Allow-Origin is sent).
    const read = await call(started.url, 'GET', '/v1/catalog', { headers: { origin: 'https://attacker.example' } })
    expect(read.status).toBe(200)
    expect(read.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('answers 405 with Allow for other methods, HEAD like GET, 404 for unknown paths', async () => {
    const put = await call(started.url, 'PUT', '/v1/events', { headers: json, body: '{}' })
    expect(put.status).toBe(405)
    expect(put.headers.allow).toBe('POST')
    const deleteCatalog = await call(started.url, 'DELETE', '/v1/catalog')
    expect(deleteCatalog.status).toBe(405)
    expect(deleteCatalog.headers.allow).toBe('GET, HEAD')
    const faults = await call(started.url, 'PATCH', '/v1/sandbox/faults')
    expect(faults.headers.allow).toBe('GET, HEAD, POST, DELETE')
    const head = await call(started.url, 'HEAD', '/v1/catalog')
    expect(head.status).toBe(200)
    expect(head.body).toBe('')
    expect(head.headers['content-type']).toBe('application/json')
    expect((await call(started.url, 'GET', '/v1/nothing')).status).toBe(404)
  })

  it('answers a malformed URI with 400, an unknown integration in the tester with 404', async () => {
    const malformed = await call(started.url, 'GET', '/v1/events/%E0%A4%A')
    expect(malformed.status).toBe(400)
    expect(JSON.parse(malformed.body)).toStrictEqual({ error: 'the request path is not a well-formed URI' })
    const unknown = await call(started.url, 'POST', '/v1/test', {
      headers: json,
      body: JSON.stringify({ integration: 'nope', event: events.identifyEvent() })
    })
    expect(unknown.status).toBe(404)
    // Every installed integration is named (a contributor's new one too).
    expect(JSON.parse(unknown.body).error).toMatch(/^integration "nope" is not installed \(installed: .*\binsider, /)
  })

  it('takes only application/json on JSON routes, and limits bodies, chunked ones too', async () => {
    const body = JSON.stringify(events.identifyEvent({ messageId: 'types-1' }))
    expect(
      (await call(started.url, 'POST', '/v1/events', { headers: { 'content-type': 'text/plain' }, body })).status
    ).toBe(415)
    expect(
      (await call(started.url, 'POST', '/v1/events', { headers: { 'content-type': 'application/jsonp' }, body })).status
    ).toBe(415)
    expect(
      (
        await call(started.url, 'POST', '/v1/events', {
          headers: { 'content-type': 'application/json; charset=utf-8' },
          body
        })
      ).status
    ).toBe(202)
    const chunk = `${'x'.repeat(64 * 1024)}`
    const chunked = await call(started.url, 'POST', '/v1/events', {
      headers: json,
      chunks: Array.from({ length: 20 }, () => chunk)
    })
    expect(chunked.status).toBe(413)
    expect(JSON.parse(chunked.body)).toStrictEqual({ error: 'the body is over 1048576 bytes' })
    expect((await call(started.url, 'GET', '/health')).status).toBe(200)
  })

  it('sends the security headers, with a CSP on the console', async () => {
    const page = await call(started.url, 'GET', '/')
    expect(page.status).toBe(200)
    expect(page.headers['content-security-policy']).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    expect(page.headers['x-content-type-options']).toBe('nosniff')
    expect(page.headers['x-frame-options']).toBe('DENY')
    expect(page.headers['referrer-policy']).toBe('no-referrer')
    const api = await call(started.url, 'GET', '/v1/catalog')
    expect(api.headers['x-content-type-options']).toBe('nosniff')
  })

  it('exposes process metrics, event-loop lag and latency histograms, with bounded labels', async () => {
    const odd = await call(started.url, 'POST', '/v1/events', {
      headers: json,
      body: JSON.stringify({ type: 'made-up', messageId: 'm-1' })
    })
    expect(odd.status).toBe(400)
    await call(started.url, 'POST', '/v1/events', {
      headers: json,
      body: JSON.stringify(events.identifyEvent({ messageId: 'metrics-1' }))
    })
    await started.runtime.drain()
    const metrics = await call(started.url, 'GET', '/metrics')
    expect(metrics.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8')
    const text = metrics.body
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m)
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m)
    expect(text).toMatch(/^process_resident_memory_bytes \d/m)
    expect(text).toMatch(/^open_actions_accept_duration_seconds_bucket\{le="0\.005",via="events"\} \d+$/m)
    expect(text).toMatch(
      /^open_actions_delivery_attempt_duration_seconds_bucket\{le="\+Inf",instance="insider"\} [1-9]/m
    )
    expect(text).toMatch(/^open_actions_delivery_latency_seconds_count\{instance="moengage"\} [1-9]/m)
    expect(text).toMatch(/^open_actions_http_requests_total\{method="POST",route="\/v1\/events",status="202"\} [1-9]/m)
    expect(text).not.toContain('made-up')
    // Route patterns, never raw paths: an id in the path does not mint a series.
    await call(started.url, 'GET', '/v1/events/some-unique-id-1234')
    expect((await call(started.url, 'GET', '/metrics')).body).toMatch(/route="\/v1\/events\/:id"/)
    expect((await call(started.url, 'GET', '/metrics')).body).not.toContain('some-unique-id-1234')
  })
})

describe('the console’s routes', () => {
  let started: StartedRuntime
  beforeAll(async () => {
    started = await startTestRuntime()
  })
  afterAll(() => started.stop())

  it('serves sample events and the sandbox settings each simulator accepts', async () => {
    const answer = await call(started.url, 'GET', '/v1/console')
    const body = JSON.parse(answer.body) as {
      samples: Record<string, { type: string }>
      sandboxSettings: Record<string, Record<string, unknown>>
    }
    expect(Object.keys(body.samples)).toEqual(expect.arrayContaining(['identify', 'track', 'page', 'Order Completed']))
    expect(Object.keys(body.sandboxSettings).sort()).toStrictEqual([
      'insider',
      'moengage',
      'onesignal',
      'segment',
      'tray'
    ])
    expect(body.sandboxSettings.moengage).toStrictEqual({
      api_id: 'SANDBOXWS01',
      api_key: 'sandbox-moengage-data-key',
      region: 'DC_01'
    })
  })

  it('tests a connection with typed-in settings (sandbox), naming the settings to fix', async () => {
    const test = (settings: Record<string, unknown>) =>
      call(started.url, 'POST', '/v1/test-connection', {
        headers: json,
        body: JSON.stringify({ integration: 'moengage', settings })
      }).then((answer) => ({ status: answer.status, body: JSON.parse(answer.body) as Record<string, unknown> }))
    const good = await test({ api_id: 'WS1', api_key: 'typed-key-9', region: 'DC_02' })
    expect(good.status).toBe(200)
    expect(good.body).toMatchObject({ ok: true })
    const requests = good.body.requests as { url: string; headers: Record<string, string> }[]
    expect(requests.map((request) => request.url)).toStrictEqual([
      'https://api-02.moengage.com/v1/integrations/segment/auth?appId=WS1'
    ])
    expect(JSON.stringify(good.body)).not.toContain('typed-key-9')
    const missing = await test({ api_id: 'WS1', region: 'DC_02' })
    expect(missing.body).toMatchObject({ ok: false, stage: 'settings', settings: ['api_key'], requests: [] })
    const unknown = await call(started.url, 'POST', '/v1/test-connection', {
      headers: json,
      body: JSON.stringify({ integration: 'nope' })
    })
    expect(unknown.status).toBe(404)
  })

  it('tests a configured instance’s connection through its own transport, 404 for an unknown instance', async () => {
    const answer = await call(started.url, 'POST', '/v1/instances/insider/test-connection')
    expect(JSON.parse(answer.body)).toMatchObject({ ok: true })
    expect((await call(started.url, 'POST', '/v1/instances/nope/test-connection')).status).toBe(404)
  })

  it('streams live stats as server-sent events', async () => {
    const url = new URL(started.url)
    const first = await new Promise<string>((resolve, reject) => {
      const sent = httpRequest(
        { host: url.hostname, port: url.port, path: '/v1/stats/stream', headers: { host: url.host } },
        (response) => {
          expect(response.headers['content-type']).toBe('text/event-stream')
          let text = ''
          response.on('data', (chunk: Buffer) => {
            text += chunk.toString('utf8')
            if (text.includes('\n\n')) {
              sent.destroy()
              resolve(text)
            }
          })
        }
      )
      sent.on('error', reject)
      sent.end()
    })
    expect(first).toMatch(/^event: stats\ndata: \{/)
    const stats = JSON.parse(first.split('\n')[1]?.slice('data: '.length) ?? '{}') as Record<string, unknown>
    expect(stats).toMatchObject({ backlog: 0, deadLetters: 0, totals: { delivered: 0, deadLettered: 0, retries: 0 } })
    expect((stats.instances as { id: string }[]).map((instance) => instance.id)).toContain('insider')
  })
})

describe('a client that goes away mid-request', () => {
  it('is logged at debug, not as an error, and the server keeps serving', async () => {
    const started = await startTestRuntime()
    try {
      const url = new URL(started.url)
      await new Promise<void>((resolve) => {
        const sent = httpRequest({
          host: url.hostname,
          port: url.port,
          method: 'POST',
          path: '/v1/events',
          headers: { host: url.host, 'content-type': 'application/json', 'content-length': '5000' }
        })
        sent.on('error', () => resolve())
        sent.write('[{"type":"identify","userId":"u-1"')
        setTimeout(() => {
          sent.destroy()
          resolve()
        }, 100)
      })
      await new Promise((resolve) => setTimeout(resolve, 200))
      const lines = started.logs.map((line) => JSON.parse(line) as { level: string; msg: string })
      expect(lines.filter((line) => line.level === 'error')).toStrictEqual([])
      expect(lines.map((line) => [line.level, line.msg])).toContainEqual([
        'debug',
        'client went away before the answer'
      ])
      expect((await call(started.url, 'GET', '/health')).status).toBe(200)
    } finally {
      await started.stop()
    }
  })
})

describe('the HTTP API with a token', () => {
  let started: StartedRuntime
  let base: string
  let close: () => Promise<void>
  beforeAll(async () => {
    started = await startTestRuntime()
    const server = createRuntimeServer(started.runtime, {
      host: '127.0.0.1',
      token: 'admin-token-1234',
      metricsToken: 'scrape-token-5678'
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    close = () => new Promise((resolve) => server.close(() => resolve()))
  })
  afterAll(async () => {
    await close()
    await started.stop()
  })

  it('serves the console without the token; every API route needs it', async () => {
    for (const path of ['/', '/app.js', '/style.css']) expect((await call(base, 'GET', path)).status).toBe(200)
    for (const [method, path, body] of ADMIN_ROUTES) {
      const answer = await call(base, method, path, { headers: json, ...(body ? { body } : {}) })
      expect([method, path, answer.status]).toStrictEqual([method, path, 401])
      expect(answer.headers['www-authenticate']).toMatch(/^Bearer/)
    }
    const wrong = await call(base, 'GET', '/v1/catalog', { headers: { authorization: 'Bearer admin-token-123' } })
    expect(wrong.status).toBe(401)
    expect(JSON.parse(wrong.body)).toStrictEqual({ error: 'the token is not valid' })
    const right = await call(base, 'GET', '/v1/catalog', { headers: { authorization: 'Bearer admin-token-1234' } })
    expect(right.status).toBe(200)
    expect((await call(base, 'GET', '/health')).status).toBe(200)
  })

  it('lets the metrics token read /metrics and nothing else', async () => {
    const scrape = { authorization: 'Bearer scrape-token-5678' }
    expect((await call(base, 'GET', '/metrics', { headers: scrape })).status).toBe(200)
    expect(
      (await call(base, 'GET', '/metrics', { headers: { authorization: 'Bearer admin-token-1234' } })).status
    ).toBe(200)
    expect((await call(base, 'GET', '/v1/dead-letters', { headers: scrape })).status).toBe(401)
  })

  it('still checks Host and Origin with the right token', async () => {
    const authorization = 'Bearer admin-token-1234'
    expect((await call(base, 'GET', '/v1/catalog', { headers: { authorization, host: 'evil.example' } })).status).toBe(
      421
    )
    const foreign = await call(base, 'DELETE', '/v1/sandbox/faults', {
      headers: { authorization, origin: 'https://evil.example' }
    })
    expect(foreign.status).toBe(403)
  })
})
