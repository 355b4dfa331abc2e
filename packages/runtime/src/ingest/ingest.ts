import type { SegmentEvent } from '@segment/actions-core'
import { runSource } from '@open-actions/core'
import { prepareMessage } from '@open-actions/segment'
import type { ResolvedConfig } from '../config'
import type { RuntimeMetrics } from '../metrics'
import type { Stats } from '../stats'
import type { EventResult, TargetRef } from '../store/results'
import type { DeliveryStore, NewEvent } from '../store/store'
import { type Lane, matchTargets, sourceLaneId } from '../targets'
import { allowedByIntegrations, completeMessage } from './complete'
import { EventValidationError } from './validate-events'

/** Too many deliveries wait already: the caller should come back later (503 with Retry-After). */
export class BacklogFullError extends Error {
  readonly status = 503
  readonly retryAfterSeconds = 5
  constructor(backlog: number, limit: number) {
    super(
      `the delivery backlog is full (${backlog} of at most ${limit} pending deliveries, maxBacklogEvents); retry later`
    )
    this.name = 'BacklogFullError'
  }
}

export class UnknownSourceError extends Error {
  readonly status = 404
  constructor(id: string, known: readonly string[]) {
    super(`no source "${id}" is configured (configured: ${known.join(', ') || 'none'})`)
    this.name = 'UnknownSourceError'
  }
}

export interface IngestDependencies {
  readonly resolved: ResolvedConfig
  readonly lanes: ReadonlyMap<string, Lane>
  readonly store: DeliveryStore
  readonly metrics: RuntimeMetrics
  readonly stats: Stats
  /** New deliveries were committed for these lanes. */
  readonly notify: (laneId: string) => void
  readonly clock?: () => number
}

export interface SourceAcceptance {
  readonly source: string
  readonly messages: number
  readonly results: EventResult[]
}

/**
 * The front of the pipeline: events (already validated as a whole) are matched to their targets and committed to the
 * store, one delivery per matched subscription, before anything is answered. No vendor is called here.
 */
export class Ingest {
  private readonly clock: () => number

  constructor(private readonly dependencies: IngestDependencies) {
    this.clock = dependencies.clock ?? Date.now
  }

  /**
   * Commits events for every destination subscription they match (of `instances` only, when given); resolves with
   * each event's results (queued).
   */
  async events(
    events: readonly SegmentEvent[],
    options: {
      readonly instances?: ReadonlySet<string>
      /** Where they came in (a label of the accept-time histogram). */
      readonly via?: string
      /** Segment's Tracking API always sets `receivedAt`; the runtime's own API keeps one a message brings. */
      readonly overwriteReceivedAt?: boolean
      /** The batch's `sentAt`, for clock-skew correction of messages without their own. */
      readonly sentAt?: unknown
    } = {}
  ): Promise<EventResult[]> {
    const { lanes, metrics, stats } = this.dependencies
    const now = this.clock()
    const completion = { receivedAt: new Date(now), overwriteReceivedAt: options.overwriteReceivedAt === true }
    const prepared = events.map((event): NewEvent => {
      const complete = completeMessage(event, completion, options.sentAt)
      return {
        eventId: String(complete.messageId),
        event: complete,
        receivedAt: now,
        targets: matchTargets(lanes, complete)
          .filter((target) => !options.instances || options.instances.has(target.ref.instance))
          .filter((target) =>
            allowedByIntegrations(complete.integrations, {
              id: target.instance.id,
              integration: target.instance.integration,
              name: target.instance.definition.name
            })
          )
          .map((target) => target.ref)
      }
    })
    const results = await this.commit(prepared, now, options.via ?? 'events')
    for (const event of events) {
      metrics.eventsReceived.inc({ type: String(event.type) })
      stats.record('events')
    }
    return results
  }

  /**
   * An inbound webhook: validated and mapped to Segment messages by the source (a bad payload is refused whole,
   * naming the field), then committed for delivery into Segment.
   */
  async source(sourceId: string, payload: unknown): Promise<SourceAcceptance> {
    const { resolved, metrics } = this.dependencies
    const instance = resolved.sources.find((source) => source.id === sourceId)
    if (!instance)
      throw new UnknownSourceError(
        sourceId,
        resolved.sources.map((source) => source.id)
      )
    metrics.sourcePayloads.inc({ source: sourceId })
    const { messages } = runSource(instance.source, payload, instance.settings)
    const now = this.clock()
    const laneId = sourceLaneId(sourceId)
    const lane = this.dependencies.lanes.get(laneId)
    const target = lane ? [...lane.targets.values()][0] : undefined
    if (!target) throw new Error(`the source "${sourceId}" has no delivery lane`)
    const prepared = messages.map((message, index): NewEvent => {
      let ready: ReturnType<typeof prepareMessage>
      try {
        ready = prepareMessage(message, () => new Date(now))
      } catch (error) {
        throw new EventValidationError(
          `message ${index} of the ${instance.source.name} payload: ${(error as Error).message}`
        )
      }
      // Completed as the Tracking API completes messages, by the Segment package: a timestamp (now when missing) and
      // a messageId derived from the content, so a webhook delivered twice is deduplicated; Segment sets receivedAt.
      return {
        eventId: ready.messageId,
        event: ready as unknown as SegmentEvent,
        receivedAt: now,
        targets: [target.ref]
      }
    })
    const results = await this.commit(prepared, now, 'source')
    return { source: sourceId, messages: messages.length, results }
  }

  private async commit(prepared: readonly NewEvent[], now: number, via: string): Promise<EventResult[]> {
    const { store, resolved } = this.dependencies
    const timer = this.dependencies.metrics.acceptDuration.startTimer({ via })
    const planned = prepared.reduce((sum, event) => sum + event.targets.length, 0)
    const limit = resolved.config.maxBacklogEvents
    if (planned > 0 && store.backlog + planned > limit) throw new BacklogFullError(store.backlog, limit)
    const accepted = await store.accept(prepared, { now, dedupeWindowMs: resolved.config.dedupeWindowMs })
    const touched = new Set<TargetRef['instance']>()
    accepted.forEach((answer) => {
      if (answer.duplicate) return
      for (const target of answer.result.targets) touched.add(target.instance)
    })
    for (const laneId of touched) this.dependencies.notify(laneId)
    timer()
    return accepted.map((answer) => answer.result)
  }
}
