import type { Logger } from '../logger'
import { targetKey } from '../store/results'
import type { Claim, DeliveryStore, Settlement } from '../store/store'
import { batchKeyOf, type Lane, type Target } from '../targets'
import { Limiter } from './limiter'
import { type AttemptOutcome, type RetryOptions, settlementFor } from './retry-policy'

export interface BatchingOptions {
  readonly maxEvents: number
  readonly maxBytes: number
  readonly maxWaitMs: number
}

export interface SettledAttempt {
  readonly lane: Lane
  readonly target: Target | undefined
  readonly claim: Claim
  readonly outcome: AttemptOutcome
  readonly settlement: Settlement
}

export interface WorkerOptions {
  readonly store: DeliveryStore
  readonly lanes: ReadonlyMap<string, Lane>
  readonly retry: RetryOptions
  readonly batching: BatchingOptions
  /** Runs one attempt for claims of one target; one outcome per claim, never throws. */
  readonly execute: (lane: Lane, target: Target, claims: readonly Claim[]) => Promise<AttemptOutcome[]>
  readonly logger: Logger
  readonly onSettled?: (attempt: SettledAttempt) => void
  readonly clock?: () => number
  readonly random?: () => number
}

interface Batch {
  readonly target: Target
  readonly claims: Claim[]
  bytes: number
  timer?: NodeJS.Timeout
}

/** The delivery workers: one loop per lane (destination instance or source), reading due deliveries from the store. */
export class Workers {
  private readonly lanes: Map<string, LaneWorker>
  private sweep: NodeJS.Timeout | undefined

  constructor(options: WorkerOptions) {
    this.lanes = new Map([...options.lanes.values()].map((lane) => [lane.id, new LaneWorker(lane, options)]))
  }

  /**
   * Starts every lane: each claims what is due now and sleeps until the next delivery is due. A slow sweep looks
   * again every few seconds, so a delivery whose settlement was written late (the store was unavailable) is never
   * left waiting for a wake-up that was computed before it.
   */
  start(): void {
    for (const lane of this.lanes.values()) lane.notify()
    this.sweep = setInterval(() => {
      for (const lane of this.lanes.values()) lane.notify()
    }, SWEEP_MS)
    this.sweep.unref()
  }

  /** New deliveries for this lane were committed: claim them now rather than at the next wake-up. */
  notify(laneId: string): void {
    this.lanes.get(laneId)?.notify()
  }

  /** Sends in flight now, across lanes. */
  get sending(): number {
    let total = 0
    for (const lane of this.lanes.values()) total += lane.limiter.active
    return total
  }

  /** Sends waiting for a free slot of their lane. */
  get waiting(): number {
    let total = 0
    for (const lane of this.lanes.values()) total += lane.limiter.queued
    return total
  }

  /** Deliveries claimed and not yet settled (held in batches, waiting for a slot, or being sent). */
  get held(): number {
    let total = 0
    for (const lane of this.lanes.values()) total += lane.held
    return total
  }

  /**
   * Stops claiming, sends what waits in batches now, and waits for sends in flight until `deadline`. What is not
   * settled by then stays in the store as it is and is delivered after the next start.
   */
  async stop(deadline: number): Promise<void> {
    if (this.sweep) clearInterval(this.sweep)
    await Promise.all([...this.lanes.values()].map((lane) => lane.stop(deadline)))
  }
}

const SWEEP_MS = 5000

class LaneWorker {
  readonly limiter: Limiter
  held = 0
  private readonly prefetch: number
  private readonly batches = new Map<string, Batch>()
  private readonly sends = new Set<Promise<void>>()
  private pumping = false
  private again = false
  private stopped = false
  private wakeTimer: NodeJS.Timeout | undefined
  private wakeAt = Number.POSITIVE_INFINITY
  private readonly clock: () => number

  constructor(
    private readonly lane: Lane,
    private readonly options: WorkerOptions
  ) {
    this.limiter = new Limiter(lane.maxConcurrent)
    this.clock = options.clock ?? Date.now
    const batched = [...lane.targets.values()].some((target) => target.batched)
    // Enough claimed to keep every slot busy, and to fill batches; bounded, so memory does not grow with the backlog.
    this.prefetch = lane.maxConcurrent * 2 + (batched ? options.batching.maxEvents * 4 : 0)
  }

  notify(): void {
    if (!this.stopped) void this.pump()
  }

  private async pump(): Promise<void> {
    if (this.pumping) {
      this.again = true
      return
    }
    this.pumping = true
    try {
      do {
        this.again = false
        while (!this.stopped && this.held < this.prefetch) {
          const claims = await this.options.store.claim(this.lane.id, this.prefetch - this.held, this.clock())
          if (claims.length === 0) break
          this.held += claims.length
          for (const claim of claims) this.dispatch(claim)
        }
        if (!this.stopped && this.held < this.prefetch) await this.scheduleWake()
      } while (this.again && !this.stopped)
    } catch (error) {
      // The store cannot be read or written now (its health says why): try again shortly, never give up.
      this.options.logger.error('delivery worker cannot claim', { lane: this.lane.id, error: (error as Error).message })
      this.wakeIn(1000)
    } finally {
      this.pumping = false
    }
  }

  private async scheduleWake(): Promise<void> {
    const next = await this.options.store.nextDueAt(this.lane.id)
    if (next === undefined) return
    this.wakeIn(Math.max(0, next - this.clock()))
  }

  private wakeIn(delay: number): void {
    const at = this.clock() + delay
    if (this.wakeTimer && this.wakeAt <= at) return
    if (this.wakeTimer) clearTimeout(this.wakeTimer)
    this.wakeAt = at
    // Timers beyond ~24.8 days overflow; a long wait just wakes up early and looks again.
    this.wakeTimer = setTimeout(
      () => {
        this.wakeTimer = undefined
        this.wakeAt = Number.POSITIVE_INFINITY
        this.notify()
      },
      Math.min(delay, 2 ** 31 - 1)
    )
  }

  private dispatch(claim: Claim): void {
    const target = this.lane.targets.get(targetKey(claim.target))
    if (!target) {
      this.settle(
        undefined,
        [claim],
        [
          {
            ok: false,
            status: undefined,
            retryable: false,
            retryAfterMs: undefined,
            message: `not delivered: the configuration has no subscription "${claim.target.subscription}" (action "${claim.target.action}") on instance "${claim.target.instance}"`
          }
        ]
      )
      return
    }
    if (!target.batched) {
      this.track(this.send(target, [claim]))
      return
    }
    let key: string
    try {
      key = batchKeyOf(target, claim.event)
    } catch (error) {
      this.settle(
        target,
        [claim],
        [
          {
            ok: false,
            status: 400,
            retryable: false,
            retryAfterMs: undefined,
            message: `mapping failed: ${(error as Error).message}`
          }
        ]
      )
      return
    }
    const bytes = Buffer.byteLength(JSON.stringify(claim.event))
    const { maxBytes, maxEvents, maxWaitMs } = this.options.batching
    const current = this.batches.get(key)
    if (current && current.bytes + bytes > maxBytes) this.flush(key)
    let batch = this.batches.get(key)
    if (!batch) {
      batch = { target, claims: [], bytes: 0 }
      this.batches.set(key, batch)
    }
    batch.claims.push(claim)
    batch.bytes += bytes
    if (batch.claims.length >= maxEvents) this.flush(key)
    else if (!batch.timer) batch.timer = setTimeout(() => this.flush(key), this.stopped ? 0 : maxWaitMs)
  }

  private flush(key: string): void {
    const batch = this.batches.get(key)
    if (!batch) return
    this.batches.delete(key)
    if (batch.timer) clearTimeout(batch.timer)
    if (batch.claims.length > 0) this.track(this.send(batch.target, batch.claims))
  }

  private track(send: Promise<void>): void {
    this.sends.add(send)
    void send.finally(() => this.sends.delete(send))
  }

  private async send(target: Target, claims: readonly Claim[]): Promise<void> {
    let outcomes: AttemptOutcome[]
    try {
      outcomes = await this.limiter.run(() => this.options.execute(this.lane, target, claims))
    } catch (error) {
      const message = `the runtime failed to run the attempt: ${(error as Error).message}`
      outcomes = claims.map(() => ({ ok: false, status: undefined, message, retryAfterMs: undefined }))
    }
    this.settle(target, claims, outcomes)
  }

  private settle(target: Target | undefined, claims: readonly Claim[], outcomes: readonly AttemptOutcome[]): void {
    const now = this.clock()
    const settlements = claims.map((claim, index) => {
      const outcome: AttemptOutcome = outcomes[index] ?? {
        ok: false,
        status: undefined,
        message: 'the attempt reported no outcome for this event',
        retryAfterMs: undefined
      }
      const settlement = settlementFor(claim, outcome, this.options.retry, now, this.options.random)
      this.options.onSettled?.({ lane: this.lane, target, claim, outcome, settlement })
      return settlement
    })
    this.options.store.settle(settlements, now)
    this.held -= claims.length
    for (const settlement of settlements)
      if (settlement.outcome === 'retry') this.wakeIn(Math.max(0, settlement.at - now))
    this.notify()
  }

  async stop(deadline: number): Promise<void> {
    this.stopped = true
    if (this.wakeTimer) clearTimeout(this.wakeTimer)
    for (const key of [...this.batches.keys()]) this.flush(key)
    const remaining = deadline - this.clock()
    if (this.sends.size === 0 || remaining <= 0) return
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.allSettled([...this.sends]),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, remaining)
      })
    ])
    if (timer) clearTimeout(timer)
  }
}
