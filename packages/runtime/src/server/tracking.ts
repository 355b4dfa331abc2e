import { promisify } from 'node:util'
import { gunzip } from 'node:zlib'
import type { Context, Hono } from 'hono'
import { cors } from 'hono/cors'
import { EventValidationError } from '../ingest/validate-events'
import { parseTrackingRequest, TRACKING_MAX_BATCH_BYTES, TRACKING_PATHS, type TrackingRoute } from '../ingest/tracking'
import type { OpenActionsRuntime } from '../runtime'
import { readBody } from './body'
import { HttpError } from './errors'

const gunzipAsync = promisify(gunzip)

/**
 * Open to every origin, as Segment's API is: the write key is the gate, not the page. The browser SDK sends
 * `Authorization`, so Chromium asks first (a preflight); it retries with `X-Retry-Count`.
 */
const trackingCors = cors({
  origin: '*',
  allowMethods: ['POST'],
  allowHeaders: ['Authorization', 'Content-Type', 'X-Retry-Count'],
  maxAge: 86_400
})

const tooLarge = () =>
  new EventValidationError(
    `the request is over ${TRACKING_MAX_BATCH_BYTES} bytes; Segment's Tracking API takes at most 500 KB per request`
  )

/**
 * A Tracking API body as text: JSON sent as `application/json` or as `text/plain` (what the browser SDK sends, to
 * avoid a preflight), gzip-compressed or not, at most 500 KB once decompressed (400 past it, as Segment's API).
 */
async function readTrackingText(c: Context): Promise<string> {
  const type = c.req.header('content-type') ?? ''
  if (!/^(application\/json|text\/plain)\s*(;|$)/i.test(type))
    throw new HttpError(415, `send Content-Type: application/json or text/plain (got ${type.slice(0, 100) || 'none'})`)
  let raw: Buffer
  try {
    raw = await readBody(c, TRACKING_MAX_BATCH_BYTES)
  } catch (error) {
    if (error instanceof HttpError && error.status === 413) {
      const refused = tooLarge()
      throw new HttpError(400, refused.message, { connection: 'close' })
    }
    throw error
  }
  const encoding = (c.req.header('content-encoding') ?? 'identity').trim().toLowerCase()
  if (encoding === 'identity' || encoding === '') return raw.toString('utf8')
  if (encoding !== 'gzip')
    throw new HttpError(415, `Content-Encoding ${encoding.slice(0, 40)} is not supported (gzip is)`)
  try {
    return (await gunzipAsync(raw, { maxOutputLength: TRACKING_MAX_BATCH_BYTES })).toString('utf8')
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge()
    throw new EventValidationError(`the body is not valid gzip: ${(error as Error).message}`)
  }
}

/**
 * Segment's HTTP Tracking API, so Segment's own SDKs send here unchanged: `POST /v1/{identify,track,page,screen,group,
 * alias,batch,import}` and the browser SDK's `/v1/{i,t,p,s,g,a,b}`. Registered before the admin routes' rules (Host,
 * Origin, bearer token), which do not apply: any origin may send, with a configured write key. Every accepted request
 * is answered `200 {"success": true}` once its good messages are committed; rejected messages are recorded.
 */
export function registerTrackingRoutes(app: Hono, runtime: OpenActionsRuntime): void {
  for (const [segment, route] of Object.entries(TRACKING_PATHS) as [string, TrackingRoute][]) {
    const path = `/v1/${segment}`
    app.options(path, trackingCors)
    app.post(path, trackingCors, async (c) => {
      const text = await readTrackingText(c)
      const request = parseTrackingRequest(route, text, c.req.header('authorization'))
      await runtime.track(request, path)
      return c.json({ success: true }, 200)
    })
  }
}
