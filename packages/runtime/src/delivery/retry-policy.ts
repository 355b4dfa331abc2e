import { isRetryableStatus } from '@open-actions/core'
import type { Claim, Settlement, StateWrite } from '../store/store'

export interface RetryOptions {
  readonly baseDelayMs: number
  readonly maxDelayMs: number
  /** How long after acceptance (or a replay) a delivery may still be retried: the retry budget. */
  readonly retryForMs: number
  /** An optional cap on attempts; without one the budget alone ends retries. */
  readonly maxAttempts: number | undefined
}

/** What one attempt came to, as the executor reports it. */
export type AttemptOutcome = (
  | { readonly ok: true; readonly status?: number; readonly detail: unknown }
  | {
      readonly ok: false
      readonly status: number | undefined
      readonly message: string
      readonly retryAfterMs: number | undefined
      /** Set when the error says so itself (core's `errorDetails`); otherwise core's `isRetryableStatus` decides. */
      readonly retryable?: boolean
    }
) & {
  /** What the attempt left for later attempts of the same delivery (actions-core's `stateContext`). */
  readonly state?: readonly StateWrite[]
}

/**
 * Exponential backoff with full jitter: a delay drawn uniformly from [0, min(max, base·2^(attempt-1))], which spreads
 * retries of many failed events instead of sending them back in a burst.
 */
export function backoffDelay(
  attempt: number,
  options: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs'>,
  random: () => number = Math.random
): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(random() * ceiling)
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`
}

/**
 * Turns an attempt's outcome into what the store records. A vendor's `Retry-After` is always honoured: the next
 * attempt is never earlier, however long it asks (the delivery is parked until then), unless that is past the retry
 * budget, in which case the delivery is dead-lettered saying so. Non-retryable failures are dead-lettered at once.
 */
export function settlementFor(
  claim: Claim,
  outcome: AttemptOutcome,
  options: RetryOptions,
  now: number,
  random: () => number = Math.random
): Settlement {
  const state = outcome.state && outcome.state.length > 0 ? { state: outcome.state } : {}
  if (outcome.ok)
    return {
      id: claim.id,
      outcome: 'delivered',
      detail: outcome.detail,
      ...(outcome.status === undefined ? {} : { status: outcome.status }),
      ...state
    }
  const { status, message } = outcome
  const retryable = outcome.retryable ?? isRetryableStatus(status)
  if (!retryable) return { id: claim.id, outcome: 'dead', status, reason: message, ...state }
  if (options.maxAttempts !== undefined && claim.attempt >= options.maxAttempts)
    return {
      id: claim.id,
      outcome: 'dead',
      status,
      reason: `gave up after ${claim.attempt} attempts: ${message}`,
      ...state
    }
  const delay = Math.max(backoffDelay(claim.attempt, options, random), outcome.retryAfterMs ?? 0)
  const deadline = claim.budgetStart + options.retryForMs
  if (now + delay > deadline) {
    const why =
      outcome.retryAfterMs !== undefined && now + outcome.retryAfterMs > deadline
        ? `the vendor asked to retry after ${seconds(outcome.retryAfterMs)}, past the retry budget (delivery.retryForMs ${seconds(options.retryForMs)})`
        : `gave up after ${claim.attempt} attempts over ${seconds(Math.max(0, now - claim.budgetStart))} (delivery.retryForMs ${seconds(options.retryForMs)})`
    return { id: claim.id, outcome: 'dead', status, reason: `${why}: ${message}`, ...state }
  }
  return { id: claim.id, outcome: 'retry', at: now + delay, status, reason: message, ...state }
}
