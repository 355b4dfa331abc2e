export type TargetStatus = 'delivered' | 'queued' | 'retrying' | 'dead_lettered'

/** Where a delivery goes: one subscription of one destination instance (or a source's delivery into Segment). */
export interface TargetRef {
  readonly instance: string
  readonly integration: string
  readonly action: string
  readonly subscription: string
}

/** What happened to one event at one subscription of one destination instance. */
export interface TargetResult extends TargetRef {
  readonly status: TargetStatus
  readonly attempts: number
  readonly httpStatus?: number
  readonly detail?: unknown
  readonly nextAttemptAt?: string
  readonly deadLetterId?: string
}

/** An event's results, as `POST /v1/events` answers them and `GET /v1/events/:id` looks them up. */
export interface EventResult {
  readonly eventId: string
  readonly receivedAt: string
  /** True when the event's messageId was accepted before, within the dedupe window: not delivered again. */
  readonly duplicate?: true
  readonly targets: readonly TargetResult[]
}

/** The key of a target in maps: instance, action and subscription name. */
export function targetKey(target: Pick<TargetRef, 'instance' | 'action' | 'subscription'>): string {
  return `${target.instance}\u0000${target.action}\u0000${target.subscription}`
}
