import type { JSONLikeObject, ModifiedResponse, RequestClient, ErrorCodes } from '@segment/actions-core'
import { getErrorCodeFromHttpStatus, IntegrationError, MultiStatusResponse } from '@segment/actions-core'
import { type RetryableStatus, VendorAuthenticationError, VendorRetryableError } from './errors'
import { isRetryableStatus, parseRetryAfter } from './retry'

/** Statuses actions-core's `RetryableError` accepts as they are; any other retryable status is reported as 500. */
const RETRYABLE_ERROR_STATUSES = new Set<number>([
  408, 423, 429, 500, 502, 503, 504, 505, 506, 507, 508, 509, 510, 511, 598, 599
])

export interface VendorErrorContext {
  /** The vendor's name as users know it, used in every message. */
  readonly vendor: string
  /** Reads the vendor's own error message from its error body, when it has one. */
  readonly readMessage?: (body: unknown) => string | undefined
}

interface ResponseLike {
  readonly status: number
  readonly headers: { get(name: string): string | null }
  readonly data?: unknown
  readonly content?: string
}

function bodyOf(response: ResponseLike): unknown {
  if (response.data !== undefined && response.data !== null && response.data !== '') return response.data
  if (!response.content) return undefined
  try {
    return JSON.parse(response.content)
  } catch {
    return response.content
  }
}

const MAX_MESSAGE_LENGTH = 300

function summarizeBody(body: unknown): string | undefined {
  if (body === undefined || body === null || body === '') return undefined
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  return text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH)}…` : text
}

/**
 * The one mapping from a vendor's HTTP status to an actions-core outcome:
 * 2xx → nothing; 401/403 → `InvalidAuthenticationError`; what `isRetryableStatus` calls retryable (408, 423, 429,
 * 5xx) → `VendorRetryableError` with the vendor's `Retry-After`; any other status → a non-retryable
 * `IntegrationError` carrying the vendor's message.
 */
export function errorForResponse(response: ResponseLike, context: VendorErrorContext): Error | undefined {
  const { status } = response
  if (status >= 200 && status < 300) return undefined
  const body = bodyOf(response)
  const vendorMessage = context.readMessage?.(body) ?? summarizeBody(body)
  const detail = vendorMessage ? `: ${vendorMessage}` : ''
  if (status === 401 || status === 403) {
    return new VendorAuthenticationError(`${context.vendor} rejected the credentials (HTTP ${status})${detail}`, status)
  }
  if (isRetryableStatus(status)) {
    const retryStatus = (RETRYABLE_ERROR_STATUSES.has(status) ? status : 500) as RetryableStatus
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'))
    return new VendorRetryableError(`${context.vendor} answered HTTP ${status}${detail}`, retryStatus, { retryAfterMs })
  }
  return new IntegrationError(
    `${context.vendor} rejected the request (HTTP ${status})${detail}`,
    getErrorCodeFromHttpStatus(status),
    status
  )
}

/** Throws `errorForResponse(response)` when there is one. */
export function assertResponseOk(response: ResponseLike, context: VendorErrorContext): void {
  const error = errorForResponse(response, context)
  if (error) throw error
}

const NETWORK_ERROR_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'ECONNABORTED'
])

function isNetworkError(error: unknown): error is Error & { code?: string; errno?: string; type?: string } {
  if (!(error instanceof Error)) return false
  const candidate = error as Error & { code?: string; errno?: string; type?: string }
  return (
    candidate.name === 'FetchError' ||
    candidate.type === 'system' ||
    NETWORK_ERROR_CODES.has(candidate.code ?? '') ||
    NETWORK_ERROR_CODES.has(candidate.errno ?? '')
  )
}

/**
 * Every vendor call goes through here: the request is sent with `throwHttpErrors: false`, the status is mapped
 * by `errorForResponse`, and a dropped connection becomes retryable instead of an unknown error.
 *
 * `skipResponseCloning`: actions-core otherwise clones each response and reads only the clone; node-fetch tees
 * the body with a 16 KB buffer per branch, so any answer over 16 KB stalls forever (found by `pnpm fuzz`).
 */
export async function sendVendorRequest<Data = unknown>(
  request: RequestClient,
  url: string,
  options: Parameters<RequestClient>[1],
  context: VendorErrorContext
): Promise<ModifiedResponse<Data>> {
  let response: ModifiedResponse<Data>
  try {
    response = await request<Data>(url, { ...options, throwHttpErrors: false, skipResponseCloning: true })
  } catch (error) {
    if (isNetworkError(error)) {
      throw new VendorRetryableError(`${context.vendor} could not be reached: ${error.message}`, 503, { cause: error })
    }
    throw error
  }
  assertResponseOk(response, context)
  return response
}

export type RecordOutcome =
  | { readonly ok: true; readonly sent: JSONLikeObject | string; readonly body?: JSONLikeObject | string }
  | {
      readonly ok: false
      readonly status: number
      readonly message: string
      /** An actions-core error code; derived from the status when absent. */
      readonly code?: keyof typeof ErrorCodes
      readonly sent?: JSONLikeObject | string
    }

/**
 * For single-event `perform`s: the outcome of the one record sent, or the error it failed with (a vendor's
 * "200 with failures" must never pass as delivered).
 */
export function assertRecordDelivered(outcome: RecordOutcome | undefined, vendor: string): JSONLikeObject | string {
  if (outcome === undefined)
    throw new IntegrationError(`${vendor} did not report on the record sent`, 'MISSING_RESULT', 502)
  if (!outcome.ok)
    throw new IntegrationError(
      outcome.message,
      outcome.code ?? getErrorCodeFromHttpStatus(outcome.status),
      outcome.status
    )
  return outcome.body ?? outcome.sent
}

/**
 * A vendor's "200 with per-record failures" as a `MultiStatusResponse`, one entry per batch item in order,
 * so a failed record is never counted as delivered.
 */
export function multiStatusFromOutcomes(outcomes: readonly RecordOutcome[]): MultiStatusResponse {
  const multiStatus = new MultiStatusResponse()
  for (const outcome of outcomes) {
    if (outcome.ok) {
      multiStatus.pushSuccessResponse({ status: 200, sent: outcome.sent, body: outcome.body ?? 'accepted' })
    } else {
      multiStatus.pushErrorResponse({
        status: outcome.status,
        errortype: outcome.code ?? getErrorCodeFromHttpStatus(outcome.status),
        errormessage: outcome.message,
        ...(outcome.sent === undefined ? {} : { sent: outcome.sent })
      })
    }
  }
  return multiStatus
}

/** Splits items into chunks whose JSON envelope stays within `maxBytes` and `maxItems`. */
export function chunkByLimits<Item>(
  items: readonly Item[],
  limits: { readonly maxItems: number; readonly maxBytes: number; readonly envelopeBytes?: number },
  sizeOf: (item: Item) => number
): Item[][] {
  const chunks: Item[][] = []
  let current: Item[] = []
  // A JSON array of n items costs the items plus n-1 commas plus the envelope around it.
  let currentBytes = limits.envelopeBytes ?? 0
  for (const item of items) {
    const itemBytes = sizeOf(item) + (current.length > 0 ? 1 : 0)
    if (current.length > 0 && (current.length >= limits.maxItems || currentBytes + itemBytes > limits.maxBytes)) {
      chunks.push(current)
      current = []
      currentBytes = limits.envelopeBytes ?? 0
    }
    currentBytes += current.length > 0 ? itemBytes : sizeOf(item)
    current.push(item)
  }
  if (current.length > 0) chunks.push(current)
  return chunks
}
