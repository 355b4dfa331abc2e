import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { join } from 'node:path'
import { getRequestListener } from '@hono/node-server'
import { type Context, Hono, type MiddlewareHandler } from 'hono'
import { methodNotAllowed } from 'hono/method-not-allowed'
import { matchedRoutes } from 'hono/route'
import { secureHeaders } from 'hono/secure-headers'
import { streamSSE } from 'hono/streaming'
import { z } from 'zod'
import { describeCatalog } from '../catalog'
import { faultSchema } from '../config'
import { validateEvents } from '../ingest/validate-events'
import { RuntimeMetrics } from '../metrics'
import type { OpenActionsRuntime } from '../runtime'
import { SAMPLE_EVENTS } from '../samples'
import { readJson } from './body'
import { registerTrackingRoutes } from './tracking'
import { allowedHostsFor, assertListenable, hostCheck, sameOriginCheck, tokenCheck } from './access'
import { errorResponse, HttpError, jsonResponse } from './errors'

export interface ServerOptions {
  /** The address listened on (its name is also accepted in `Host`). */
  readonly host: string
  /** Required when the host is not loopback: admin and API routes then need `Authorization: Bearer <token>`. */
  readonly token?: string
  /** A second token that may read `/metrics` only (for a Prometheus scraper). */
  readonly metricsToken?: string
  /** More names than 127.0.0.1, localhost and [::1] the API answers to in `Host` (e.g. a DNS name behind a proxy). */
  readonly allowedHosts?: readonly string[]
  /** Largest accepted request body, in bytes (1 MB by default), chunked bodies included. */
  readonly maxBodyBytes?: number
}

const WEB_DIR = join(__dirname, '..', 'web')
const CONSOLE_FILES: Readonly<Record<string, { readonly file: string; readonly type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' }
}

const deadLetterFilterSchema = z.strictObject({
  instance: z.string().min(1).optional(),
  action: z.string().min(1).optional(),
  reason: z.string().min(1).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional()
})
type DeadLetterFilterInput = z.infer<typeof deadLetterFilterSchema>

const deadLetterQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,200}$/, 'must be a cursor from a previous page')
    .optional(),
  ...deadLetterFilterSchema.shape
})

const replaySchema = z.union([
  z.strictObject({ ids: z.array(z.string().min(1)).min(1).max(100_000) }),
  z.strictObject({ filter: deadLetterFilterSchema }),
  z.strictObject({})
])

const deliveriesQuerySchema = z.strictObject({
  instance: z.string().min(1).optional(),
  eventId: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100)
})

const deletionSchema = z
  .strictObject({
    userId: z.string().min(1).max(200).optional(),
    anonymousIds: z.array(z.string().min(1).max(200)).max(100).optional()
  })
  .refine((body) => body.userId !== undefined || (body.anonymousIds?.length ?? 0) > 0, {
    message: 'name the user: userId, anonymousIds, or both'
  })

const rejectedQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100)
})

function toFilter(input: DeadLetterFilterInput) {
  return {
    ...(input.instance ? { instance: input.instance } : {}),
    ...(input.action ? { action: input.action } : {}),
    ...(input.reason ? { reason: input.reason } : {}),
    ...(input.since ? { since: Date.parse(input.since) } : {}),
    ...(input.until ? { until: Date.parse(input.until) } : {})
  }
}

/** A path that does not decode (`/%E0%A4%A`) is a bad request, not a 404 or a crash. */
const wellFormedPath: MiddlewareHandler = async (c, next) => {
  try {
    decodeURIComponent(new URL(c.req.url).pathname)
  } catch {
    throw new HttpError(400, 'the request path is not a well-formed URI')
  }
  await next()
}

/**
 * The runtime's HTTP API and console as a Hono app. Who may call what:
 * - `/health`: anyone (a load balancer's probe); it shows counts, nothing else.
 * - the console's files: `Host` must be one of this server's names; no token (the page asks for it).
 * - Segment's Tracking API (`/v1/batch`, `/v1/t`, …): any origin and any `Host` (CORS open), gated by a write key.
 * - the admin and API routes (`/v1/…`, `/metrics`): `Host` checked (421), state-changing requests same-origin only
 *   (403), and the bearer token when one is set (`/metrics` also takes the metrics token).
 * Every body is limited (chunked ones too), every other JSON route takes only `application/json`, every other method on a
 * known path is a 405 with `Allow`, and every answer carries the security headers (CSP on the page).
 */
export function createApp(runtime: OpenActionsRuntime, options: ServerOptions): Hono {
  const limit = options.maxBodyBytes ?? 1024 * 1024
  const allowed = allowedHostsFor(options.host, options.allowedHosts)
  const app = new Hono()
  const { redactor, logger, metrics } = runtime

  app.onError((error, c) => errorResponse(error, c, redactor, logger))
  app.notFound((c) => jsonResponse(404, { error: `no route for ${c.req.method} ${c.req.path}` }))

  // Outermost: duration, status and route pattern of every request (patterns and methods only: bounded labels).
  app.use('*', async (c, next) => {
    const started = process.hrtime.bigint()
    await next()
    const route =
      matchedRoutes(c)
        .filter((entry) => entry.method !== 'ALL')
        .at(-1)?.path ?? 'unmatched'
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    metrics.httpRequests.inc({ method: RuntimeMetrics.method(c.req.method), route, status: String(c.res.status) })
    metrics.httpDuration.observe({ route }, seconds)
    logger.debug('http', { method: c.req.method, path: c.req.path, status: c.res.status, ms: seconds * 1000 })
  })
  app.use('*', wellFormedPath)
  app.use('*', methodNotAllowed({ app, onMethodNotAllowed: (c, methods) => methodNotAllowedAnswer(c, methods) }))
  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"]
      },
      xFrameOptions: 'DENY',
      strictTransportSecurity: false
    })
  )

  app.get('/health', async (c) => {
    const health = await runtime.health()
    return c.json(health, health.status === 'ok' ? 200 : 503)
  })

  const admin: MiddlewareHandler[] = [
    hostCheck(allowed),
    sameOriginCheck(),
    ...(options.token ? [tokenCheck([options.token])] : [])
  ]
  const metricsTokens = [options.token, options.metricsToken].filter((token): token is string => Boolean(token))
  app.get('/metrics', hostCheck(allowed), ...(metricsTokens.length > 0 ? [tokenCheck(metricsTokens)] : []), async (c) =>
    c.body(await runtime.renderMetrics(), 200, { 'content-type': metrics.contentType })
  )

  // A worker process delivers: it shows its health and metrics, and nothing else.
  if (runtime.role === 'worker') return app

  for (const [path, { file, type }] of Object.entries(CONSOLE_FILES)) {
    app.get(path, hostCheck(allowed), (c) =>
      c.body(readFileSync(join(WEB_DIR, file)), 200, { 'content-type': type, 'cache-control': 'no-store' })
    )
  }

  // Segment's Tracking API first: its own rules (any origin, the write key), so the admin rules below never see it.
  registerTrackingRoutes(app, runtime)

  app.use('/v1/*', ...admin)

  app.get('/v1/catalog', (c) => c.json(describeCatalog(runtime.registry)))
  app.get('/v1/instances', (c) =>
    c.json({
      transport: runtime.config.config.transport,
      destinations: runtime.config.destinations.map((instance) => ({
        id: instance.id,
        integration: instance.integration,
        // `bundled` (the runtime's manifest) or `package` (loaded at start from npm or a path).
        origin: instance.origin,
        definition: instance.definitionKey,
        name: instance.definition.name,
        settings: redactor.value(instance.settings),
        subscriptions: instance.subscriptions,
        // The request client its actions send with: `runtime` (connections reused) or `actions-core`.
        client: runtime.lanes.get(instance.id)?.client ?? instance.client,
        // How each subscription's deliveries run: `compiled` (the fast path) or `actions-core`, with the reason.
        actions: [...(runtime.lanes.get(instance.id)?.targets.values() ?? [])].flatMap((target) =>
          target.kind === 'destination'
            ? [{ action: target.ref.action, subscription: target.ref.subscription, ...target.path }]
            : []
        ),
        maxConcurrent: instance.maxConcurrent
      })),
      sources: runtime.config.sources.map((source) => ({
        id: source.id,
        integration: source.integration,
        name: source.source.name,
        path: `/v1/sources/${source.id}`
      }))
    })
  )
  app.post('/v1/events', async (c) => {
    const events = validateEvents(await readJson(c, limit))
    return c.json({ results: await runtime.ingestEvents(events) }, 202)
  })
  app.post('/v1/deletions', async (c) => {
    const body = deletionSchema.parse(await readJson(c, limit))
    return c.json(await runtime.deleteUser(body), 200)
  })
  app.get('/v1/deletions/:id', async (c) => {
    const record = await runtime.store.deletion(c.req.param('id'))
    if (!record) throw new HttpError(404, 'no deletion request with this id')
    return c.json(record)
  })
  app.get('/v1/tracking/rejected', (c) => {
    const { limit: count } = rejectedQuerySchema.parse(c.req.query())
    return c.json(runtime.rejectedMessages.list(count))
  })
  app.get('/v1/events/:id', async (c) => {
    const result = await runtime.result(c.req.param('id'))
    if (!result) throw new HttpError(404, 'no result for this event id (unknown, or pruned by retention)')
    return c.json(result)
  })
  app.post('/v1/sources/:id', async (c) =>
    c.json(await runtime.receive(c.req.param('id'), await readJson(c, limit)), 202)
  )
  app.get('/v1/deliveries', (c) => {
    const query = deliveriesQuerySchema.parse(c.req.query())
    return c.json({
      total: runtime.recorder.total,
      deliveries: runtime.recorder.list({
        ...(query.instance ? { instance: query.instance } : {}),
        ...(query.eventId ? { eventId: query.eventId } : {}),
        limit: query.limit
      })
    })
  })
  app.get('/v1/dead-letters', async (c) => {
    const { limit: pageSize, cursor, ...filter } = deadLetterQuerySchema.parse(c.req.query())
    return c.json(await runtime.deadLetters({ limit: pageSize, ...(cursor ? { cursor } : {}), ...toFilter(filter) }))
  })
  app.post('/v1/dead-letters/replay', async (c) => {
    const body = replaySchema.parse(await readJson(c, limit))
    const report = await runtime.replay(
      'ids' in body ? { ids: body.ids } : { filter: 'filter' in body ? toFilter(body.filter) : {} }
    )
    return c.json(report, 202)
  })
  app.post('/v1/test', async (c) => c.json(await runtime.test(await readJson(c, limit))))
  app.post('/v1/test-connection', async (c) => c.json(await runtime.testConnection(await readJson(c, limit))))
  app.post('/v1/instances/:id/test-connection', async (c) => {
    const report = await runtime.testInstanceConnection(c.req.param('id'))
    if (!report) throw new HttpError(404, `no destination instance "${c.req.param('id')}" is configured`)
    return c.json(report)
  })
  // What the console needs besides the catalog, so the page knows no vendor: sample events and sandbox settings.
  app.get('/v1/console', (c) => c.json({ samples: SAMPLE_EVENTS, sandboxSettings: runtime.sandboxSettings() }))
  // Live stats as server-sent events, one a second, until the page goes away (or hides) or the runtime closes.
  app.get('/v1/stats/stream', (c) =>
    streamSSE(c, async (stream) => {
      metrics.consoleStreams.inc()
      let open = true
      stream.onAbort(() => {
        open = false
      })
      try {
        while (open && !runtime.closingSignal.aborted) {
          await stream.writeSSE({ event: 'stats', data: JSON.stringify(redactor.value(await runtime.liveStats())) })
          await stream.sleep(1000)
        }
      } finally {
        metrics.consoleStreams.dec()
      }
    })
  )
  app.get('/v1/stats', async (c) => {
    const counts = await runtime.store.counts()
    return c.json({
      series: runtime.stats.series(),
      deliveries: runtime.recorder.total,
      deadLetters: counts.deadLetters,
      backlog: counts.backlog
    })
  })
  app.get('/v1/sandbox/faults', (c) => c.json({ faults: runtime.faults.list() }))
  app.post('/v1/sandbox/faults', async (c) => {
    runtime.faults.add(faultSchema.parse(await readJson(c, limit)))
    return c.json({ faults: runtime.faults.list() }, 201)
  })
  app.delete('/v1/sandbox/faults', (c) => {
    runtime.faults.clear()
    return c.json({ faults: [] })
  })
  return app
}

function methodNotAllowedAnswer(c: Context, methods: string[]): Response {
  const allow = [...new Set(methods.flatMap((method) => (method === 'GET' ? ['GET', 'HEAD'] : [method])))]
  return jsonResponse(
    405,
    { error: `${c.req.method} is not allowed on ${c.req.path} (allowed: ${allow.join(', ')})` },
    {
      allow: allow.join(', ')
    }
  )
}

/** The runtime's HTTP API and console on a Node HTTP server (not listening yet). Nothing global is replaced. */
export function createRuntimeServer(runtime: OpenActionsRuntime, options: ServerOptions): Server {
  assertListenable(options.host, options.token)
  const app = createApp(runtime, options)
  const server = createServer(getRequestListener(app.fetch, { overrideGlobalObjects: false }))
  // Longer than clients' and load balancers' idle timeouts, so the server never closes a kept-alive connection just
  // as a client reuses it (the client sees a reset; the 100,000-event soak hit it with Node's 5 s default).
  server.keepAliveTimeout = 65_000
  server.headersTimeout = 66_000
  return server
}
