/**
 * Exponential backoff with full jitter (a delay drawn uniformly from [0, min(max, base·2^(attempt-1))]), which
 * spreads retries of many failed events instead of sending them back in a burst. A vendor's Retry-After wins
 * when it asks for longer, capped at the maximum delay.
 */
export function retryDelay(
  attempt: number,
  options: { readonly baseDelayMs: number; readonly maxDelayMs: number; readonly retryAfterMs?: number | undefined },
  random: () => number = Math.random
): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, attempt - 1))
  const jittered = Math.round(random() * ceiling)
  if (options.retryAfterMs === undefined) return jittered
  return Math.min(options.maxDelayMs, Math.max(jittered, options.retryAfterMs))
}

const RETRYABLE_STATUSES = new Set([408, 423, 429])

/** Whether a failed delivery is worth another attempt: 408/423/429, 5xx, or no status (a transport failure). */
export function isRetryableStatus(status: number | undefined): boolean {
  if (status === undefined) return true
  return RETRYABLE_STATUSES.has(status) || status >= 500
}
