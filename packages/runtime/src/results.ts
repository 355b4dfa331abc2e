export type TargetStatus = 'delivered' | 'queued' | 'retrying' | 'dead_lettered'

/** What happened to one event at one subscription of one destination instance. */
export interface TargetResult {
  readonly instance: string
  readonly integration: string
  readonly action: string
  readonly subscription: string
  status: TargetStatus
  attempts: number
  httpStatus?: number
  detail?: unknown
  nextAttemptAt?: string
  deadLetterId?: string
}

export interface EventResult {
  readonly eventId: string
  readonly receivedAt: string
  readonly targets: TargetResult[]
}

/** Every event's result, looked up by id; bounded, oldest forgotten first (dead letters keep failures for good). */
export class ResultStore {
  private readonly results = new Map<string, EventResult>()

  constructor(private readonly capacity = 10_000) {}

  put(result: EventResult): void {
    this.results.delete(result.eventId)
    this.results.set(result.eventId, result)
    if (this.results.size > this.capacity) {
      const oldest = this.results.keys().next().value
      if (oldest !== undefined) this.results.delete(oldest)
    }
  }

  get(eventId: string): EventResult | undefined {
    return this.results.get(eventId)
  }

  get size(): number {
    return this.results.size
  }
}
