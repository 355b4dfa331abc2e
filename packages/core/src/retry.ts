/*
 * The one retry policy and the one `Retry-After` parser of the repository: every package maps a vendor's answer with
 * these, and the runtime decides with them, so a status is never retryable in one place and final in another.
 */

/** Statuses worth another attempt besides 5xx: timeout (408), locked (423, WebDAV, used by some APIs for busy), rate limited (429). */
const RETRYABLE_BELOW_500 = new Set([408, 423, 429])

/** Whether a failure with this status is worth another attempt: 408, 423, 429, any 5xx, or no status (the request never got an answer). */
export function isRetryableStatus(status: number | undefined): boolean {
  if (status === undefined) return true
  return RETRYABLE_BELOW_500.has(status) || status >= 500
}

/**
 * `Retry-After` in milliseconds (RFC 9110 §10.2.3): delta-seconds (decimals are read too, as some APIs send them) or
 * an HTTP date; undefined when absent or unreadable. A date in the past means "now" (0).
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined
  const trimmed = value.trim()
  if (trimmed === '') return undefined
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000)
  const date = Date.parse(trimmed)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}
