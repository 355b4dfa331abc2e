import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { gzipSync } from 'node:zlib'
import { createRequestClient, Headers, HTTPError, Request, type RequestClient } from '@segment/actions-core'
import { createRedactor } from '@open-actions/core'
import { RuntimeMetrics } from '../metrics'
import { InstanceTransport } from './http-transport'
import { DeliveryRecorder } from './recorder'
import { createRuntimeRequestClient } from './request-client'

/*
 * The runtime's request client against actions-core's own, on a loopback server that answers each path its own way:
 * for every scenario both clients must produce the same result (status, data, content) or the same error (name,
 * message, status), so an action cannot tell which one ran it. Then what only the runtime's client does: it reuses
 * connections, and a chunked answer on a reused connection is read whole.
 */

const routes: Record<string, (request: IncomingMessage, response: ServerResponse) => void> = {
  '/json': (_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'),
  '/text': (_request, response) => response.writeHead(200, { 'content-type': 'text/plain' }).end('plain words'),
  '/bad-json': (_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{oops'),
  '/chunked': (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' })
    response.write('{"part":')
    response.end('"two"}')
  },
  '/gzip': (_request, response) =>
    response
      .writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' })
      .end(gzipSync('{"zipped":true}')),
  '/400': (_request, response) =>
    response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"bad field"}'),
  '/429': (_request, response) =>
    response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' }).end('{"error":"slow down"}'),
  '/503': (_request, response) => response.writeHead(503).end('down'),
  '/redirect': (_request, response) => response.writeHead(302, { location: '/json' }).end(),
  '/to-wire': (_request, response) => response.writeHead(302, { location: '/wire' }).end(),
  '/echo': (request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () =>
      response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          method: request.method,
          url: request.url,
          contentType: request.headers['content-type'] ?? null,
          authorization: request.headers.authorization ?? null,
          body: Buffer.concat(chunks).toString('utf8')
        })
      )
    )
  },
  '/wire': (request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const headers: string[] = []
      for (let index = 0; index < request.rawHeaders.length; index += 2) {
        const name = request.rawHeaders[index] ?? ''
        // Each client manages its own connection (keep-alive or not).
        if (!['connection', 'keep-alive'].includes(name.toLowerCase()))
          headers.push(`${name}: ${request.rawHeaders[index + 1] ?? ''}`)
      }
      wire.push({ method: request.method, url: request.url, headers, body: Buffer.concat(chunks).toString('base64') })
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"seen":true}')
    })
  },
  '/slow': (_request, response) => {
    setTimeout(() => response.writeHead(200).end('late'), 400)
  },
  '/cut': (request, response) => {
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' })
    response.write('{"trunc')
    setTimeout(() => request.socket.destroy(), 20)
  }
}

/** What `/wire` received: method, URL, every header as sent (name case and order kept) and the body's bytes. */
let wire: { method?: string; url?: string; headers: string[]; body: string }[] = []

let server: Server
let origin: string
let connections = 0
const sockets = new Set<Socket>()

beforeAll(async () => {
  server = createServer((request, response) => {
    const route = routes[new URL(request.url ?? '/', 'http://x').pathname]
    if (route) route(request, response)
    else response.writeHead(404).end()
  })
  server.on('connection', (socket: Socket) => {
    connections += 1
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  server.keepAliveTimeout = 10_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  for (const socket of sockets) socket.destroy()
  await new Promise((resolve) => server.close(resolve))
})

function liveTransport(recorder = new DeliveryRecorder()): InstanceTransport {
  return new InstanceTransport({
    instance: 'test',
    mode: 'live',
    connections: 4,
    allowPrivateNetworks: true,
    recorder,
    redactor: () => createRedactor(['s3cret']),
    metrics: new RuntimeMetrics()
  })
}

const context = { action: 'test', eventIds: ['e-1'] }

/** What an action can observe of a call: the response's status, data and content, or the error's shape. */
async function observe(client: RequestClient, path: string, options: Record<string, unknown> = {}): Promise<unknown> {
  try {
    const response = await client(`${origin}${path}`, options)
    return {
      status: response.status,
      ok: response.ok,
      data: response.data,
      content: response.content,
      url: response.url,
      retryAfter: response.headers.get('retry-after')
    }
  } catch (error) {
    const failure = error as { name?: string; message?: string; status?: number; code?: string; response?: Response }
    return {
      name: failure.name,
      message: failure.message,
      status: failure.status ?? null,
      code: failure.code ?? null,
      isHttpError: error instanceof HTTPError,
      responseStatus: failure.response?.status ?? null,
      responseData: (failure.response as { data?: unknown } | undefined)?.data ?? null
    }
  }
}

const SCENARIOS: readonly [string, string, Record<string, unknown>][] = [
  ['JSON answer', '/json', {}],
  ['text answer', '/text', {}],
  ['malformed JSON answer', '/bad-json', {}],
  ['chunked answer', '/chunked', {}],
  ['gzip answer', '/gzip', {}],
  ['400 (HTTPError)', '/400', {}],
  ['429 with Retry-After', '/429', {}],
  ['503 without throwing', '/503', { throwHttpErrors: false }],
  ['redirect followed', '/redirect', {}],
  ['redirect not followed', '/redirect', { redirect: 'manual', throwHttpErrors: false }],
  ['JSON body', '/echo', { method: 'POST', json: { a: 1, text: 'é' } }],
  ['string body with headers', '/echo', { method: 'put', body: 'raw=1', headers: { 'Content-Type': 'text/x' } }],
  ['search params', '/echo', { searchParams: { q: 'a b', n: 2 } }],
  ['basic auth', '/echo', { username: 'user', password: 's3cret' }],
  ['timeout', '/slow', { timeout: 100 }],
  ['not found', '/missing', {}]
]

describe('the runtime request client behaves as actions-core’s', () => {
  const transport = liveTransport()
  const runtimeClient = createRuntimeRequestClient(transport.exchange(context))
  afterAll(() => transport.close())

  it.each(SCENARIOS)('%s', async (_name, path, options) => {
    // actions-core's client, with a fresh agent of the same transport so both reach the same server.
    const actionsCore = createRequestClient({ agent: transport.agentFor(new URL(origin), context) } as Parameters<
      typeof createRequestClient
    >[0])
    const expected = await observe(actionsCore, path, options)
    const actual = await observe(runtimeClient, path, options)
    expect(actual).toStrictEqual(expected)
  })

  it('aborts on the caller’s signal as actions-core does', async () => {
    const abort = async (client: RequestClient) => {
      const controller = new AbortController()
      setTimeout(() => controller.abort(), 50)
      return observe(client, '/slow', { signal: controller.signal })
    }
    const actionsCore = createRequestClient({ agent: transport.agentFor(new URL(origin), context) } as Parameters<
      typeof createRequestClient
    >[0])
    const expected = await abort(actionsCore)
    expect(expected).toMatchObject({ status: 408 })
    expect(await abort(runtimeClient)).toStrictEqual(expected)
  })
})

/** Defaults a definition's `extendRequest` may give (each a `client.extend`), crossed with the calls below. */
const DEFAULTS: readonly [string, Record<string, unknown>][] = [
  ['no defaults', {}],
  ['headers', { headers: { 'X-Api-Key': 'key-1', Accept: 'application/json' } }],
  ['Basic auth', { username: 'user', password: 's3cret' }],
  ['auth and content type headers', { headers: { Authorization: 'Bearer t', 'content-type': 'application/vnd+json' } }],
  [
    'header pairs, one name twice',
    {
      headers: [
        ['X-Dup', 'a'],
        ['x-dup', 'b'],
        ['Z-Last', 'z']
      ]
    }
  ],
  ['a Headers object and auth', { headers: new Headers({ 'X-Fetch': '1' }), username: 'u', password: '' }]
]

const CALLS: readonly [string, Record<string, unknown>][] = [
  ['GET', {}],
  ['JSON body', { method: 'post', json: { a: 1, text: 'é' } }],
  ['JSON body and search params', { method: 'POST', json: { a: 2 }, searchParams: { appId: 'X 1', n: 3 } }],
  ['string body with its content type', { method: 'put', body: 'raw=1', headers: { 'Content-Type': 'text/x' } }],
  ['string body', { method: 'POST', body: 'raw' }],
  ['Buffer body', { method: 'POST', body: Buffer.from('bytes') }],
  ['empty string body', { method: 'POST', body: '' }],
  [
    'headers removed and replaced',
    {
      method: 'POST',
      json: { b: 2 },
      headers: { 'content-type': 'undefined', 'X-Api-Key': 'undefined', 'User-Agent': 'mine' }
    }
  ],
  ['POST without a body', { method: 'POST' }],
  ['DELETE', { method: 'delete' }],
  ['URLSearchParams', { searchParams: new URLSearchParams('a=1&b=2&a=3') }],
  ['uncompressed PATCH', { method: 'PATCH', json: { d: 4 }, compress: false }],
  [
    'a hook of its own',
    { method: 'POST', json: { c: 3 }, beforeRequest: [() => ({ headers: { 'X-Hooked': 'yes' } })] }
  ],
  ['an illegal header name', { headers: { 'bad name': 'x' } }],
  ['an illegal header value', { headers: { 'X-Bad': 'a\nb' } }],
  ['a GET with a body', { body: 'x' }],
  ['a GET with JSON', { json: { e: 5 } }],
  [
    'an explicit timeout and a signal',
    { method: 'POST', json: { f: 6 }, timeout: 5_000, signal: new AbortController().signal }
  ]
]

/** Raw headers of a node-fetch `Headers` (names as kept, in order), or what else was there. */
function rawOf(headers: unknown): unknown {
  return headers instanceof Headers ? JSON.stringify((headers as unknown as { raw(): unknown }).raw()) : headers
}

describe('the runtime request client puts on the wire what actions-core’s puts there, whatever the options', () => {
  const transport = liveTransport()
  afterAll(() => transport.close())

  /** The bytes received, the outcome, and the request and options a hook after the answer saw (as an Action's does). */
  async function callWith(
    client: 'runtime' | 'actions-core',
    defaults: Record<string, unknown>,
    call: Record<string, unknown>,
    path = '/wire'
  ) {
    wire = []
    let seen: unknown
    const afterResponse = [
      (request: Request, given: object) => {
        const options = given as Record<string, unknown>
        seen = {
          isRequest: request instanceof Request,
          url: request.url,
          method: request.method,
          headers: rawOf(request.headers),
          body: request.body === null ? null : 'stream',
          options: {
            method: options.method,
            headers: rawOf(options.headers),
            body: options.body,
            timeout: options.timeout,
            throwHttpErrors: options.throwHttpErrors,
            json: options.json
          }
        }
      }
    ]
    const request =
      client === 'runtime'
        ? createRuntimeRequestClient(transport.exchange(context), defaults, { afterResponse })
        : createRequestClient(defaults, {
            afterResponse,
            agent: transport.agentFor(new URL(origin), context)
          } as unknown as Parameters<typeof createRequestClient>[1])
    let outcome: string
    try {
      const pending = request(`${origin}${path}`, call)
      try {
        outcome = `answered ${JSON.stringify((await pending).data)}`
      } catch (error) {
        outcome = `rejected ${(error as Error).name}: ${(error as Error).message}`
      }
    } catch (error) {
      outcome = `threw ${(error as Error).name}: ${(error as Error).message}`
    }
    return { outcome, wire, seen }
  }

  const matrix = DEFAULTS.flatMap(([defaultsName, defaults]) =>
    CALLS.map(([callName, call]) => [`${defaultsName}, ${callName}`, defaults, call] as const)
  )

  it.each(matrix)('%s', async (_name, defaults, call) => {
    const expected = await callWith('actions-core', defaults, call)
    const actual = await callWith('runtime', defaults, call)
    expect(actual).toStrictEqual(expected)
    // Either a request reached the server, or both clients refused it before sending.
    if (expected.outcome.startsWith('answered')) expect(actual.wire).toHaveLength(1)
    else expect(actual.wire).toHaveLength(0)
  })

  it.each(DEFAULTS)(
    '%s, a POST redirected with 302 (sent again as a GET without its body)',
    async (_name, defaults) => {
      const call = { method: 'POST', json: { g: 7 } }
      const expected = await callWith('actions-core', defaults, call, '/to-wire')
      const actual = await callWith('runtime', defaults, call, '/to-wire')
      expect(actual).toStrictEqual(expected)
      expect(actual.wire).toMatchObject([{ method: 'GET', url: '/wire', body: '' }])
    }
  )
})

describe('the runtime request client’s timeouts', () => {
  it('times each request out at its own deadline, however many share a duration, and never one that answered', async () => {
    const transport = liveTransport()
    const client = createRuntimeRequestClient(transport.exchange(context))
    const timed = async (path: string, timeout: number) => {
      const started = Date.now()
      const outcome = await observe(client, path, { timeout })
      return { outcome, elapsed: Date.now() - started }
    }
    try {
      // /slow answers after 400 ms. A starts now, B 150 ms later, both with 300 ms: A's timer fires first and must
      // leave B alone until B's own deadline. C (2 s) answers in time and is never aborted afterwards.
      const a = timed('/slow', 300)
      await new Promise((resolve) => setTimeout(resolve, 150))
      const b = timed('/slow', 300)
      const c = timed('/slow', 2_000)
      // D is built in two passes (Basic auth and a JSON body): its deadline must abort it as well.
      const started = Date.now()
      const d = observe(client, '/slow', { timeout: 300, method: 'POST', json: {}, username: 'u', password: 'p' }).then(
        (outcome) => ({ outcome, elapsed: Date.now() - started })
      )
      const [first, second, third, fourth] = await Promise.all([a, b, c, d])
      const timedOut = { name: 'TimeoutError', message: 'Request timed out after 300ms', code: 'ETIMEDOUT' }
      expect(first.outcome).toMatchObject(timedOut)
      expect(second.outcome).toMatchObject(timedOut)
      expect(fourth.outcome).toMatchObject(timedOut)
      for (const { elapsed } of [first, second, fourth]) {
        expect(elapsed).toBeGreaterThanOrEqual(295)
        expect(elapsed).toBeLessThan(395)
      }
      expect(third.outcome).toMatchObject({ status: 200, content: 'late' })
    } finally {
      await transport.close()
    }
  })
})

describe('the runtime transport', () => {
  it('reuses its connections, and reads a chunked answer on a reused connection whole', async () => {
    const recorder = new DeliveryRecorder()
    const transport = liveTransport(recorder)
    const client = createRuntimeRequestClient(transport.exchange(context))
    const before = connections
    try {
      for (let index = 0; index < 200; index += 1) {
        const response = await client(`${origin}/chunked`)
        expect(response.data).toStrictEqual({ part: 'two' })
      }
      // One at a time: one connection carries all of them.
      expect(transport.counters.connections).toBe(1)
      expect(connections - before).toBe(1)
      expect(recorder.total).toBe(200)
      await Promise.all(
        Array.from({ length: 40 }, async () => expect((await client(`${origin}/chunked`)).status).toBe(200))
      )
      // Forty at once: never more than the pool's four connections.
      expect(transport.counters.connections).toBeLessThanOrEqual(4)
    } finally {
      await transport.close()
    }
  })

  it('fails an answer cut short at once (actions-core’s node-fetch waits for the missing bytes forever)', async () => {
    const transport = liveTransport()
    try {
      const started = Date.now()
      await expect(createRuntimeRequestClient(transport.exchange(context))(`${origin}/cut`)).rejects.toMatchObject({
        name: 'FetchError',
        message: `request to ${origin}/cut failed, reason: aborted`
      })
      expect(Date.now() - started).toBeLessThan(5_000)
    } finally {
      await transport.close()
    }
  })

  it('records each request redacted, with its instance, action and events', async () => {
    const recorder = new DeliveryRecorder()
    const transport = liveTransport(recorder)
    try {
      await createRuntimeRequestClient(transport.exchange(context))(`${origin}/echo`, {
        method: 'POST',
        json: { key: 's3cret' },
        headers: { authorization: 'Bearer s3cret' }
      })
      const [record] = recorder.list()
      expect(record).toMatchObject({
        transport: 'live',
        instance: 'test',
        action: 'test',
        eventIds: ['e-1'],
        method: 'POST',
        url: `${origin}/echo`,
        body: { key: '[REDACTED]' },
        response: { status: 200 }
      })
      expect(record?.headers.authorization).toBe('[REDACTED]')
      expect(JSON.stringify(record)).not.toContain('s3cret')
    } finally {
      await transport.close()
    }
  })

  it('refuses private addresses in live mode unless allowed, naming the address', async () => {
    const transport = new InstanceTransport({
      instance: 'guarded',
      mode: 'live',
      connections: 2,
      recorder: new DeliveryRecorder(),
      redactor: () => createRedactor([]),
      metrics: new RuntimeMetrics()
    })
    const before = connections
    try {
      const client = createRuntimeRequestClient(transport.exchange(context))
      await expect(client(`${origin}/json`)).rejects.toMatchObject({
        name: 'FetchError',
        code: 'EBLOCKEDADDRESS',
        message: expect.stringContaining('127.0.0.1') as unknown as string
      })
      await expect(client(`http://localhost:${new URL(origin).port}/json`)).rejects.toMatchObject({
        code: 'EBLOCKEDADDRESS'
      })
      expect(connections).toBe(before)
    } finally {
      await transport.close()
    }
  })
})
