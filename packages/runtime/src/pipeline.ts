import { randomUUID } from 'node:crypto'
import { Destination, type JSONObject, type Result, type SegmentEvent, transform } from '@segment/actions-core'
import { parseFql, validate } from '@segment/destination-subscriptions'
import { type ErrorDetails, errorDetails, type Redactor, type Subscription } from '@open-actions/core'
import { isRetryableStatus, retryDelay } from './backoff'
import type { ResolvedConfig, ResolvedDestination, RuntimeConfig } from './config'
import type { DeadLetterStore } from './dead-letters'
import { Limiter } from './limiter'
import type { Logger } from './logger'
import type { Metrics } from './metrics'
import { type EventResult, ResultStore, type TargetResult } from './results'
import type { Stats } from './stats'
import { requestContext } from './transport/recorder'

type ParsedFql = ReturnType<typeof parseFql>

/** One subscription of one destination instance: the unit of delivery, retry and dead-lettering. */
interface Target {
  readonly instance: ResolvedDestination
  readonly destination: Destination<JSONObject>
  /** The instance's sends in flight, shared by its subscriptions: at most its `maxConcurrent` at once. */
  readonly limiter: Limiter
  readonly subscription: Subscription
  readonly fql: ParsedFql
  readonly name: string
  readonly batched: boolean
  /** The instance's settings with only this subscription: built once per configuration, not per event. */
  readonly settings: JSONObject
  /** Metric labels, built once. */
  readonly labels: {
    readonly delivered: Record<string, string>
    readonly deadLettered: Record<string, string>
    readonly retry: Record<string, string>
  }
}

interface Delivery {
  readonly target: Target
  readonly event: SegmentEvent
  readonly eventId: string
  readonly result: TargetResult
}

interface BatchQueue {
  readonly target: Target
  readonly deliveries: Delivery[]
  bytes: number
  timer?: NodeJS.Timeout
}

export interface PipelineDependencies {
  readonly deadLetters: DeadLetterStore
  readonly metrics: Metrics
  readonly logger: Logger
  readonly stats: Stats
  readonly redactor: () => Redactor
  readonly random?: () => number
}

type Failure = Pick<ErrorDetails, 'status' | 'message' | 'retryAfterMs'>

function hasBatchingEnabled(subscription: Subscription): boolean {
  return (subscription.mapping as Record<string, unknown>).enable_batching === true
}

/**
 * The delivery pipeline. Each event is matched against every subscription (FQL parsed once per configuration)
 * and delivered per subscription through actions-core's `Destination.onEvent` / `onBatch` with only that
 * subscription, so settings validation, FQL and mapping run as in production, a failure at one action cannot
 * hide another's success, and a retry repeats only what failed. Retries back off exponentially with jitter and
 * honour Retry-After; what still fails is dead-lettered with its reason. Nothing is dropped without a record.
 */
export class Pipeline {
  private readonly targets: Target[]
  private readonly results = new ResultStore()
  private readonly queues = new Map<string, BatchQueue>()
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly inFlight = new Set<Promise<unknown>>()
  private readonly limiters: Limiter[] = []
  private closed = false
  /** Outcomes since start: what `replay` and benchmarks report. */
  readonly totals = { delivered: 0, deadLettered: 0, retries: 0 }

  constructor(
    private readonly resolved: ResolvedConfig,
    private readonly dependencies: PipelineDependencies
  ) {
    this.targets = resolved.destinations.flatMap((instance) => {
      // One Destination per instance, reused for every event: its `responses` list is cleared after each call.
      const destination = new Destination(instance.definition)
      const limiter = new Limiter(instance.maxConcurrent)
      this.limiters.push(limiter)
      return instance.subscriptions.map((subscription): Target => {
        const action = instance.definition.actions[subscription.partnerAction]
        const base = { instance: instance.id, action: subscription.partnerAction }
        return {
          instance,
          destination,
          limiter,
          subscription,
          fql: parseFql(subscription.subscribe),
          name: subscription.name ?? action?.title ?? subscription.partnerAction,
          batched: action?.performBatch !== undefined && hasBatchingEnabled(subscription),
          settings: { ...instance.settings, subscriptions: [subscription as unknown as JSONObject] },
          labels: {
            delivered: dependencies.metrics.labels({ ...base, outcome: 'delivered' }),
            deadLettered: dependencies.metrics.labels({ ...base, outcome: 'dead_lettered' }),
            retry: dependencies.metrics.labels(base)
          }
        }
      })
    })
    const { metrics } = dependencies
    metrics.gauge('open_actions_batch_queue_events', 'Events waiting in batch queues.', () => this.queuedEvents())
    metrics.gauge(
      'open_actions_deliveries_waiting',
      'Sends waiting for a free slot of their instance.',
      () => this.waiting
    )
    metrics.gauge('open_actions_dead_letters', 'Dead letters not yet replayed.', () => dependencies.deadLetters.size)
  }

  /** Sends waiting for a free slot of their instance (all of its `maxConcurrent` slots are in use). */
  get waiting(): number {
    return this.limiters.reduce((sum, limiter) => sum + limiter.queued, 0)
  }

  /** Sends in flight now, across instances. */
  get sending(): number {
    return this.limiters.reduce((sum, limiter) => sum + limiter.active, 0)
  }

  private get config(): RuntimeConfig {
    return this.resolved.config
  }

  /** Accepts events, delivers each once to every subscription it matches, and answers after the first attempt. */
  async ingest(events: readonly SegmentEvent[]): Promise<EventResult[]> {
    const { metrics, stats } = this.dependencies
    const results = await Promise.all(
      events.map(async (event) => {
        const eventId = typeof event.messageId === 'string' && event.messageId !== '' ? event.messageId : randomUUID()
        metrics.increment(
          'open_actions_events_received_total',
          'Events received.',
          metrics.labels({ type: String(event.type) })
        )
        stats.record('events')
        const eventResult: EventResult = { eventId, receivedAt: new Date().toISOString(), targets: [] }
        const firstAttempts: Promise<void>[] = []
        for (const target of this.targets) {
          if (!validate(target.fql, event)) continue
          const result: TargetResult = {
            instance: target.instance.id,
            integration: target.instance.integration,
            action: target.subscription.partnerAction,
            subscription: target.name,
            status: 'queued',
            attempts: 0
          }
          eventResult.targets.push(result)
          const delivery: Delivery = { target, event, eventId, result }
          if (target.batched) this.enqueue(delivery)
          else firstAttempts.push(this.attempt(delivery))
        }
        this.results.put(eventResult)
        await Promise.all(firstAttempts)
        return eventResult
      })
    )
    return results
  }

  lookup(eventId: string): EventResult | undefined {
    return this.results.get(eventId)
  }

  /** Sends every batch now (shutdown, tests). */
  async flush(): Promise<void> {
    await Promise.all([...this.queues.keys()].map((key) => this.flushQueue(key)))
  }

  /** Waits until no delivery is queued, running or waiting for a retry. */
  async drain(): Promise<void> {
    for (;;) {
      await this.flush()
      if (this.inFlight.size === 0 && this.timers.size === 0 && this.queues.size === 0) return
      await Promise.race([...this.inFlight, new Promise((resolve) => setTimeout(resolve, 10))])
    }
  }

  /** Stops timers; pending retries are dead-lettered so nothing is lost on shutdown. */
  async close(): Promise<void> {
    await this.flush()
    this.closed = true
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    await Promise.all([...this.inFlight])
  }

  /** Delivers dead letters again (all, or the given ids) with fresh attempts; each is marked replayed first. */
  async replay(ids?: readonly string[]): Promise<EventResult[]> {
    const { deadLetters } = this.dependencies
    const letters = deadLetters.list().filter((letter) => !ids || ids.includes(letter.id))
    const results: EventResult[] = []
    for (const letter of letters) {
      const target = this.targets.find(
        (candidate) =>
          candidate.instance.id === letter.instance &&
          candidate.subscription.partnerAction === letter.partnerAction &&
          candidate.name === letter.subscription
      )
      if (!target) continue
      deadLetters.markReplayed(letter.id)
      const result: TargetResult = {
        instance: letter.instance,
        integration: target.instance.integration,
        action: letter.partnerAction,
        subscription: target.name,
        status: 'queued',
        attempts: 0
      }
      const eventResult: EventResult = {
        eventId: letter.eventId,
        receivedAt: new Date().toISOString(),
        targets: [result]
      }
      this.results.put(eventResult)
      const delivery: Delivery = { target, event: letter.event, eventId: letter.eventId, result }
      if (target.batched) this.enqueue(delivery)
      else await this.attempt(delivery)
      results.push(eventResult)
    }
    return results
  }

  private queuedEvents(): number {
    let count = 0
    for (const queue of this.queues.values()) count += queue.deliveries.length
    return count
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight.add(promise)
    void promise.finally(() => this.inFlight.delete(promise)).catch(() => undefined)
    return promise
  }

  private attempt(delivery: Delivery): Promise<void> {
    return this.track(this.runAttempt(delivery))
  }

  private async runAttempt(delivery: Delivery): Promise<void> {
    const { target, event, eventId, result } = delivery
    result.attempts += 1
    const context = { instance: target.instance.id, action: target.subscription.partnerAction, eventIds: [eventId] }
    try {
      const output = await target.limiter.run(() =>
        requestContext.run(context, () => target.destination.onEvent(event, target.settings))
      )
      this.succeed(target, result, summarize(output))
    } catch (error) {
      this.fail(delivery, errorDetails(error), () => this.attempt(delivery))
    } finally {
      target.destination.responses.length = 0
    }
  }

  private succeed(target: Target, result: TargetResult, detail: unknown): void {
    const { metrics, stats } = this.dependencies
    result.status = 'delivered'
    this.totals.delivered += 1
    result.detail = detail
    delete result.nextAttemptAt
    delete result.httpStatus
    metrics.increment('open_actions_deliveries_total', 'Deliveries by outcome.', {
      instance: result.instance,
      action: result.action,
      outcome: 'delivered'
    })
    stats.record('delivered')
  }

  /** A failed attempt: retried later when its status allows and attempts remain, dead-lettered otherwise. */
  private fail(delivery: Delivery, failure: Failure, retry: () => unknown): void {
    const { metrics, stats, logger, deadLetters, redactor } = this.dependencies
    const { result } = delivery
    const reason = redactor().text(failure.message)
    result.httpStatus = failure.status
    result.detail = reason
    stats.record('errors')
    const retryable =
      isRetryableStatus(failure.status) && result.attempts < this.config.delivery.maxAttempts && !this.closed
    if (retryable) {
      const delay = retryDelay(
        result.attempts,
        { ...this.config.delivery, retryAfterMs: failure.retryAfterMs },
        this.dependencies.random
      )
      result.status = 'retrying'
      this.totals.retries += 1
      result.nextAttemptAt = new Date(Date.now() + delay).toISOString()
      metrics.increment('open_actions_retries_total', 'Delivery attempts scheduled again.', {
        instance: result.instance,
        action: result.action
      })
      logger.warn('delivery failed; retrying', {
        instance: result.instance,
        action: result.action,
        eventId: delivery.eventId,
        attempt: result.attempts,
        status: failure.status,
        delayMs: delay,
        reason
      })
      const timer = setTimeout(() => {
        this.timers.delete(timer)
        void retry()
      }, delay)
      this.timers.add(timer)
      return
    }
    const why = isRetryableStatus(failure.status)
      ? this.closed
        ? `shut down before retrying: ${reason}`
        : `gave up after ${result.attempts} attempts: ${reason}`
      : reason
    const letter = deadLetters.add({
      instance: result.instance,
      partnerAction: result.action,
      subscription: result.subscription,
      eventId: delivery.eventId,
      event: delivery.event,
      status: failure.status,
      reason: why,
      attempts: result.attempts
    })
    result.status = 'dead_lettered'
    this.totals.deadLettered += 1
    result.deadLetterId = letter.id
    result.detail = why
    delete result.nextAttemptAt
    metrics.increment('open_actions_deliveries_total', 'Deliveries by outcome.', {
      instance: result.instance,
      action: result.action,
      outcome: 'dead_lettered'
    })
    logger.error('delivery dead-lettered', {
      instance: result.instance,
      action: result.action,
      eventId: delivery.eventId,
      status: failure.status,
      attempts: result.attempts,
      reason: why
    })
  }

  // ── Batching ────────────────────────────────────────────────────────────────────────────────────────
  private batchKey(delivery: Delivery): string {
    const { target, event } = delivery
    const base = `${target.instance.id}\u0000${target.subscription.partnerAction}\u0000${target.name}`
    const keys = (target.subscription.mapping as Record<string, unknown>).batch_keys
    if (!Array.isArray(keys) || keys.length === 0) return base
    // Events whose batch_keys fields differ (e.g. another audience) go in different requests, as actions-core requires.
    const payload = transform(target.subscription.mapping as JSONObject, event as unknown as JSONObject) as Record<
      string,
      unknown
    >
    return `${base}\u0000${JSON.stringify(keys.map((key) => payload[String(key)]))}`
  }

  private enqueue(delivery: Delivery): void {
    const key = this.batchKey(delivery)
    let queue = this.queues.get(key)
    if (!queue) {
      queue = { target: delivery.target, deliveries: [], bytes: 0 }
      this.queues.set(key, queue)
    }
    const bytes = Buffer.byteLength(JSON.stringify(delivery.event))
    if (queue.deliveries.length > 0 && queue.bytes + bytes > this.config.batching.maxBytes)
      void this.flushQueue(key).then(() => this.enqueue(delivery))
    else {
      delivery.result.status = 'queued'
      queue.deliveries.push(delivery)
      queue.bytes += bytes
      if (queue.deliveries.length >= this.config.batching.maxEvents) void this.flushQueue(key)
      else if (!queue.timer) {
        queue.timer = setTimeout(() => void this.flushQueue(key), this.config.batching.maxWaitMs)
        this.timers.add(queue.timer)
      }
    }
  }

  private flushQueue(key: string): Promise<void> {
    const queue = this.queues.get(key)
    if (!queue || queue.deliveries.length === 0) {
      this.queues.delete(key)
      return Promise.resolve()
    }
    this.queues.delete(key)
    if (queue.timer) {
      clearTimeout(queue.timer)
      this.timers.delete(queue.timer)
    }
    return this.track(this.sendBatch(queue.target, queue.deliveries))
  }

  private async sendBatch(target: Target, deliveries: readonly Delivery[]): Promise<void> {
    for (const delivery of deliveries) delivery.result.attempts += 1
    const context = {
      instance: target.instance.id,
      action: target.subscription.partnerAction,
      eventIds: deliveries.map((delivery) => delivery.eventId)
    }
    this.dependencies.metrics.increment('open_actions_batches_total', 'Batches sent.', {
      instance: target.instance.id,
      action: target.subscription.partnerAction
    })
    try {
      const output = await target.limiter.run(() =>
        requestContext.run(context, () =>
          target.destination.onBatch(
            deliveries.map((delivery) => delivery.event),
            target.settings
          )
        )
      )
      const multistatus = output.find((result) => result.multistatus)?.multistatus
      deliveries.forEach((delivery, index) => {
        const node = multistatus?.[index]
        if (!node) return this.succeed(target, delivery.result, 'not subscribed')
        if (node.status >= 200 && node.status < 300)
          return this.succeed(target, delivery.result, { status: node.status })
        const message = 'errormessage' in node ? node.errormessage : `HTTP ${node.status}`
        this.fail(delivery, { status: node.status, message, retryAfterMs: undefined }, () => this.enqueue(delivery))
      })
    } catch (error) {
      const failure = errorDetails(error)
      for (const delivery of deliveries) this.fail(delivery, failure, () => this.enqueue(delivery))
    } finally {
      target.destination.responses.length = 0
    }
  }
}

/** The last result actions-core reported (the action's own output), kept small for result look-ups. */
function summarize(results: readonly Result[]): unknown {
  const executed = [...results]
    .reverse()
    .find((result) => result.data !== undefined || result.output === 'Action Executed')
  return executed?.data ?? executed?.output ?? results[results.length - 1]?.output ?? null
}
