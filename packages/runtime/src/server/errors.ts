import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { ZodError } from 'zod'
import type { Redactor } from '@open-actions/core'
import type { Logger } from '../logger'

/** A client error: answered with its status and message, never a crash. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {}
  ) {
    super(message)
    this.name = 'HttpError'
  }
}

function json(status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers }
  })
}

/**
 * Everything a route throws, as an answer: its own status for client errors (with the field and rule for invalid
 * bodies), 503 with `Retry-After` when the backlog is full, and 500 only for the unexpected, which is logged. Messages
 * pass through the redactor. A client that went away gets nothing and is logged at debug.
 */
export function errorResponse(error: unknown, c: Context, redactor: Redactor, logger: Logger): Response {
  if (c.req.raw.signal.aborted || (error as { name?: unknown }).name === 'ClientGoneError') {
    logger.debug('client went away before the answer', { method: c.req.method, path: c.req.path })
    return new Response(null, { status: 499 })
  }
  if (error instanceof HttpError) return json(error.status, { error: redactor.text(error.message) }, error.headers)
  if (error instanceof HTTPException) return error.getResponse()
  if (error instanceof ZodError)
    return json(400, {
      error: 'invalid request',
      issues: error.issues.map((issue) => redactor.text(`${issue.path.join('.')}: ${issue.message}`))
    })
  const status = (error as { status?: unknown }).status
  const message = redactor.text((error as Error).message ?? String(error))
  if (status === 503)
    return json(
      503,
      { error: message },
      { 'retry-after': String((error as { retryAfterSeconds?: number }).retryAfterSeconds ?? 5) }
    )
  if (typeof status === 'number' && status >= 400 && status < 500) return json(status, { error: message })
  logger.error('request failed', { method: c.req.method, path: c.req.path, error: message })
  return json(500, { error: message })
}

export { json as jsonResponse }
