import type {
  Destination,
  JSONObject,
  Logger as ActionsCoreLogger,
  Result,
  StateContext,
  StatsContext
} from '@segment/actions-core'
import { errorDetails } from '@open-actions/core'
import { createSegmentClient } from '@open-actions/segment'
import type { AttemptOutcome } from './delivery/retry-policy'
import type { Claim, StateWrite } from './store/store'
import type { DestinationTarget, Lane, SourceTarget, Target } from './targets'
import { runtimeRequestClient } from './transport/attach-transport'
import { type RequestContext, requestContext } from './transport/recorder'

function failure(error: unknown): AttemptOutcome {
  const details = errorDetails(error)
  return {
    ok: false,
    status: details.status,
    message: details.message,
    retryAfterMs: details.retryAfterMs,
    ...(details.retryable === undefined ? {} : { retryable: details.retryable })
  }
}

/** The last result actions-core reported (the action's own output), kept small for result look-ups. */
function summarize(results: readonly Result[]): unknown {
  const executed = [...results]
    .reverse()
    .find((result) => result.data !== undefined || result.output === 'Action Executed')
  return executed?.data ?? executed?.output ?? results[results.length - 1]?.output ?? null
}

/** What the runtime hands actions-core with each call, besides the per-delivery `stateContext`. */
export interface AttemptOptions {
  /** The action's log, into the runtime's (redacted), with the instance and action. */
  readonly logger?: ActionsCoreLogger
  /** actions-core's own counters, into the runtime's metrics. */
  readonly statsContext?: StatsContext
  /**
   * The runtime's own bound on one attempt. Only with one is a `signal` passed: actions-core turns its 10 s
   * per-request timeout off when it gets a signal, so the attempt as a whole is bounded instead.
   */
  readonly signal?: AbortSignal
}

/**
 * Runs one attempt for claimed deliveries of one target, the way an actions runtime does: a destination target
 * through actions-core's `Destination.onEvent` (one event) or `onBatch` (a batch, with one result per event from
 * the multistatus), with only that subscription in the settings; a source target through the Segment client.
 * Returns one outcome per claim, in order; never throws.
 */
export async function execute(
  lane: Lane,
  target: Target,
  claims: readonly Claim[],
  options: AttemptOptions = {}
): Promise<AttemptOutcome[]> {
  const context = { action: target.ref.action, eventIds: claims.map((claim) => claim.eventId) }
  if (target.kind === 'source') return executeSource(lane, target, claims, context)
  const destination = lane.destination as Destination<JSONObject>
  // The compiled path on the runtime's client hands the context to its requests itself; actions-core's calls (and
  // node-fetch's agent) can only find it in the ambient requestContext.
  if (target.path.path === 'compiled' && lane.client === 'runtime')
    return executeDestination(destination, target, claims, options, context)
  return requestContext.run(context, () => executeDestination(destination, target, claims, options))
}

/**
 * actions-core's `stateContext` for one delivery, as Segment's runtime gives one per event: `getRequestContext` reads
 * what earlier attempts of this delivery left (loaded with the claim), `setResponseContext` records what this attempt
 * leaves; the workers store it with the settlement, so it survives a restart. Per instance and event: nothing is
 * shared with another destination instance, or with the same message sent again (a new delivery).
 */
export function deliveryState(
  claim: Claim,
  now: () => number = Date.now
): StateContext & { readonly writes: StateWrite[] } {
  const values = new Map(Object.entries(claim.state))
  const writes: StateWrite[] = []
  return {
    writes,
    getRequestContext(key, callback) {
      const value = values.get(key)
      callback?.(value)
      return value
    },
    setResponseContext(key, value, ttl) {
      const ms = ((ttl.hour ?? 0) * 60 + (ttl.minute ?? 0)) * 60_000 + (ttl.second ?? 0) * 1000
      values.set(key, value)
      writes.push({ key, value, expiresAt: now() + (ms > 0 ? ms : 24 * 60 * 60_000) })
    }
  }
}

async function executeDestination(
  destination: Destination<JSONObject>,
  target: DestinationTarget,
  claims: readonly Claim[],
  options: AttemptOptions,
  context?: RequestContext
): Promise<AttemptOutcome[]> {
  const runner = target.runner
  const common = {
    ...(context ? { requestContext: context } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    // A context of its own per attempt: actions-core adds the action to its tags on every call.
    ...(options.statsContext ? { statsContext: { ...options.statsContext } } : {}),
    ...(options.signal ? { signal: options.signal } : {})
  }
  try {
    if (!target.batched) {
      const [claim] = claims
      if (!claim || claims.length !== 1) throw new Error('an unbatched target takes one event per attempt')
      const stateContext = deliveryState(claim)
      try {
        const output = await runner.onEvent(claim.event, { ...common, stateContext })
        return [{ ok: true, detail: summarize(output), state: stateContext.writes }]
      } catch (error) {
        return [{ ...failure(error), state: stateContext.writes }]
      }
    }
    const output = await runner.onBatch(
      claims.map((claim) => claim.event),
      common
    )
    const multistatus = output.find((result) => result.multistatus)?.multistatus
    return claims.map((_, index): AttemptOutcome => {
      const node = multistatus?.[index]
      if (!node) return { ok: true, detail: 'not subscribed' }
      if (node.status >= 200 && node.status < 300)
        return { ok: true, status: node.status, detail: { status: node.status } }
      const message = 'errormessage' in node ? node.errormessage : `HTTP ${node.status}`
      return { ok: false, status: node.status, message, retryAfterMs: undefined }
    })
  } catch (error) {
    const outcome = failure(error)
    return claims.map(() => outcome)
  } finally {
    destination.responses.length = 0
  }
}

async function executeSource(
  lane: Lane,
  target: SourceTarget,
  claims: readonly Claim[],
  context: RequestContext
): Promise<AttemptOutcome[]> {
  try {
    const { writeKey, region } = target.source.source.delivery(target.source.settings)
    const request = runtimeRequestClient(lane.transport, target.ref.action, context)
    const client = createSegmentClient({ writeKey, region, request })
    const result = await client.batch(claims.map((claim) => claim.event))
    return claims.map((_, index): AttemptOutcome => {
      const outcome = result.outcomes[index]
      if (!outcome)
        return { ok: false, status: 502, message: 'Segment did not report on the message', retryAfterMs: undefined }
      return outcome.ok
        ? { ok: true, detail: { status: 200 } }
        : { ok: false, status: outcome.status, message: outcome.message, retryAfterMs: undefined }
    })
  } catch (error) {
    const outcome = failure(error)
    return claims.map(() => outcome)
  }
}
