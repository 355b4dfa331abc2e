import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { isIP } from 'node:net'
import { join } from 'node:path'
import { z, ZodError } from 'zod'
import { faultSchema } from './config'
import { describeCatalog } from './catalog'
import { validateEvents } from './ingest/validate-events'
import type { OpenActionsRuntime } from './runtime'

export interface ServerOptions {
  readonly host: string
  readonly port: number
  /** Required when the host is not loopback: every request must carry `Authorization: Bearer <token>`. */
  readonly token?: string
  /** Largest accepted request body, in bytes (1 MB by default). */
  readonly maxBodyBytes?: number
}

/** A client error: answered with its status and message, never a crash. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message)
  }
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1'])

const deadLetterFilterSchema = z.strictObject({
  instance: z.string().min(1).optional(),
  action: z.string().min(1).optional(),
  reason: z.string().min(1).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional()
})
type DeadLetterFilterInput = z.infer<typeof deadLetterFilterSchema>

const replaySchema = z.union([
  z.strictObject({ ids: z.array(z.string().min(1)).min(1).max(100_000) }),
  z.strictObject({ filter: deadLetterFilterSchema }),
  z.strictObject({})
])

function toFilter(input: DeadLetterFilterInput) {
  return {
    ...(input.instance ? { instance: input.instance } : {}),
    ...(input.action ? { action: input.action } : {}),
    ...(input.reason ? { reason: input.reason } : {}),
    ...(input.since ? { since: Date.parse(input.since) } : {}),
    ...(input.until ? { until: Date.parse(input.until) } : {})
  }
}

export function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || (isIP(host) === 4 && host.startsWith('127.'))
}

const WEB_DIR = join(__dirname, 'web')
const STATIC_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' }
}

function readBody(request: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length'])
    if (Number.isFinite(declared) && declared > limit) {
      reject(new HttpError(413, `the body is ${declared} bytes; at most ${limit} are accepted`))
      request.resume()
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    request.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        reject(new HttpError(413, `the body is over ${limit} bytes`))
        request.destroy()
        return
      }
      chunks.push(chunk)
    })
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    request.on('error', reject)
  })
}

async function readJson(request: IncomingMessage, limit: number): Promise<unknown> {
  const type = request.headers['content-type'] ?? ''
  if (!/^application\/json\b/i.test(type))
    throw new HttpError(415, `send Content-Type: application/json (got ${type || 'none'})`)
  const text = await readBody(request, limit)
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new HttpError(400, `the body is not valid JSON: ${(error as Error).message}`)
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
  response.end(text)
}

/** Beyond loopback, the API must not be open to anyone who can reach the port. */
export function assertListenable(host: string, token: string | undefined): void {
  if (!isLoopback(host) && !token)
    throw new Error(`Refusing to listen on ${host} without a token: set OPEN_ACTIONS_TOKEN, or bind to 127.0.0.1`)
}

/** The runtime's HTTP API and web page. Loopback by default; any other address needs a token. */
export function createRuntimeServer(runtime: OpenActionsRuntime, options: ServerOptions): Server {
  assertListenable(options.host, options.token)
  const limit = options.maxBodyBytes ?? 1024 * 1024

  const routes = async (request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> => {
    const { pathname } = url
    const method = request.method ?? 'GET'
    const staticFile = method === 'GET' ? STATIC_FILES[pathname] : undefined
    if (staticFile) {
      response.writeHead(200, { 'content-type': staticFile.type, 'cache-control': 'no-store' })
      response.end(readFileSync(join(WEB_DIR, staticFile.file)))
      return
    }
    if (method === 'GET' && pathname === '/health') {
      const health = await runtime.health()
      return send(response, health.status === 'ok' ? 200 : 503, health)
    }
    if (method === 'GET' && pathname === '/metrics') {
      const text = await runtime.renderMetrics()
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
      response.end(text)
      return
    }
    if (method === 'GET' && pathname === '/v1/catalog') return send(response, 200, describeCatalog(runtime.registry))
    if (method === 'GET' && pathname === '/v1/instances') {
      return send(response, 200, {
        transport: runtime.config.config.transport,
        destinations: runtime.config.destinations.map((instance) => ({
          id: instance.id,
          integration: instance.integration,
          definition: instance.definitionKey,
          name: instance.definition.name,
          settings: runtime.redactor.value(instance.settings),
          subscriptions: instance.subscriptions,
          // The request client its actions send with: `runtime` (connections reused) or `actions-core`.
          client: runtime.lanes.get(instance.id)?.client ?? instance.client,
          maxConcurrent: instance.maxConcurrent
        })),
        sources: runtime.config.sources.map((source) => ({
          id: source.id,
          integration: source.integration,
          name: source.source.name,
          path: `/v1/sources/${source.id}`
        }))
      })
    }
    if (method === 'POST' && pathname === '/v1/events') {
      const events = validateEvents(await readJson(request, limit))
      const results = await runtime.ingestEvents(events)
      return send(response, 202, { results })
    }
    const eventMatch = /^\/v1\/events\/([^/]+)$/.exec(pathname)
    if (method === 'GET' && eventMatch?.[1]) {
      const result = await runtime.result(decodeURIComponent(eventMatch[1]))
      return result
        ? send(response, 200, result)
        : send(response, 404, { error: 'no result for this event id (unknown, or pruned by retention)' })
    }
    const sourceMatch = /^\/v1\/sources\/([^/]+)$/.exec(pathname)
    if (method === 'POST' && sourceMatch?.[1]) {
      const payload = await readJson(request, limit)
      return send(response, 202, await runtime.receive(decodeURIComponent(sourceMatch[1]), payload))
    }
    if (method === 'GET' && pathname === '/v1/deliveries') {
      const limitParam = Number(url.searchParams.get('limit') ?? '100')
      return send(response, 200, {
        total: runtime.recorder.total,
        deliveries: runtime.recorder.list({
          ...(url.searchParams.get('instance') ? { instance: url.searchParams.get('instance') ?? '' } : {}),
          ...(url.searchParams.get('eventId') ? { eventId: url.searchParams.get('eventId') ?? '' } : {}),
          limit: Number.isFinite(limitParam) ? Math.min(Math.max(1, limitParam), 1000) : 100
        })
      })
    }
    if (method === 'GET' && pathname === '/v1/dead-letters') {
      const query = Object.fromEntries(url.searchParams)
      const {
        limit: pageSize,
        cursor,
        ...filter
      } = z
        .strictObject({
          limit: z.coerce.number().int().min(1).max(1000).default(100),
          cursor: z.string().regex(/^\d+$/, 'must be a cursor from a previous page').optional(),
          ...deadLetterFilterSchema.shape
        })
        .parse(query)
      return send(
        response,
        200,
        await runtime.deadLetters({ limit: pageSize, ...(cursor ? { cursor } : {}), ...toFilter(filter) })
      )
    }
    if (method === 'POST' && pathname === '/v1/dead-letters/replay') {
      const body = replaySchema.parse(await readJson(request, limit))
      const report = await runtime.replay(
        'ids' in body ? { ids: body.ids } : { filter: 'filter' in body ? toFilter(body.filter) : {} }
      )
      return send(response, 202, report)
    }
    if (method === 'POST' && pathname === '/v1/test')
      return send(response, 200, await runtime.test(await readJson(request, limit)))
    if (method === 'GET' && pathname === '/v1/stats') {
      const counts = await runtime.store.counts()
      return send(response, 200, {
        series: runtime.stats.series(),
        deliveries: runtime.recorder.total,
        deadLetters: counts.deadLetters,
        backlog: counts.backlog
      })
    }
    if (pathname === '/v1/sandbox/faults') {
      if (method === 'GET') return send(response, 200, { faults: runtime.faults.list() })
      if (method === 'DELETE') {
        runtime.faults.clear()
        return send(response, 200, { faults: [] })
      }
      if (method === 'POST') {
        const fault = faultSchema.parse(await readJson(request, limit))
        runtime.faults.add(fault)
        return send(response, 201, { faults: runtime.faults.list() })
      }
    }
    throw new HttpError(404, `no route for ${method} ${pathname}`)
  }

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://runtime.local')
    const started = Date.now()
    if (options.token && !url.pathname.startsWith('/health')) {
      const given = request.headers.authorization ?? ''
      if (given !== `Bearer ${options.token}`) {
        send(response, 401, { error: 'send Authorization: Bearer <token>' })
        return
      }
    }
    routes(request, response, url)
      .catch((error: unknown) => {
        if (error instanceof HttpError) return send(response, error.status, { error: error.message })
        if (error instanceof ZodError)
          return send(response, 400, {
            error: 'invalid request',
            issues: error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)
          })
        const status = (error as { status?: unknown }).status
        if (status === 503) {
          response.setHeader('retry-after', String((error as { retryAfterSeconds?: number }).retryAfterSeconds ?? 5))
          return send(response, 503, { error: runtime.redactor.text((error as Error).message) })
        }
        if (typeof status === 'number' && status >= 400 && status < 500)
          return send(response, status, { error: runtime.redactor.text((error as Error).message) })
        runtime.logger.error('request failed', { path: url.pathname, error: (error as Error).message })
        return send(response, 500, { error: runtime.redactor.text((error as Error).message) })
      })
      .finally(() => {
        runtime.metrics.increment('open_actions_http_requests_total', 'HTTP API requests.', {
          method: request.method ?? 'GET',
          status: String(response.statusCode)
        })
        runtime.logger.debug('http', {
          method: request.method,
          path: url.pathname,
          status: response.statusCode,
          ms: Date.now() - started
        })
      })
  })
  // Longer than clients' and load balancers' idle timeouts, so the server never closes a kept-alive connection just
  // as a client reuses it (the client sees a reset; the 100,000-event soak hit it with Node's 5 s default).
  server.keepAliveTimeout = 65_000
  server.headersTimeout = 66_000
  return server
}
