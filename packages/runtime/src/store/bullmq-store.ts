import { createHash } from 'node:crypto'
import type { SegmentEvent } from '@segment/actions-core'
import { Job, type Queue, type Worker } from 'bullmq'
import type { Logger } from '../logger'
import type { ClaimItem, Records, SettleItem, StoredResult } from './records'
import type { EventResult, TargetRef, TargetResult } from './results'
import { targetKey } from './results'
import {
  type Accepted,
  type Claim,
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterPage,
  type DeadLetterQuery,
  type DeadLetterSelection,
  type DeletionRecord,
  type DeliveryStore,
  type NewEvent,
  type PruneReport,
  type PurgeReport,
  type ReplayOptions,
  type ReplayReport,
  type Retention,
  type Settlement,
  type StoreCounts,
  type StoreHealth,
  StoreUnavailableError,
  type UserIdentity
} from './store'

/** A vendor rate limit that holds across every worker of one lane: at most `max` deliveries per `durationMs`. */
export interface LaneRateLimit {
  readonly max: number
  readonly durationMs: number
}

export interface BullMqStoreOptions {
  /** Names every key or table of this runtime on the server, so several runtimes can share one. Default `open-actions`. */
  readonly namespace?: string
  /**
   * This process's name among the workers, stable across its restarts (hostname, role and port by default): at
   * start, deliveries it left in flight are due again at once; those of other dead workers come back when their lock
   * runs out (`lockDurationMs`).
   */
  readonly owner: string
  /** How long a claimed delivery stays locked without its worker renewing the lock (default 30 s). */
  readonly lockDurationMs?: number
  readonly rateLimits?: ReadonlyMap<string, LaneRateLimit>
  /** When set, every process must run the same configuration: a mismatch is refused at open. */
  readonly configHash?: string
  readonly onHealthChange?: (health: StoreHealth) => void
  readonly logger?: Logger
  /** How long `open` waits for the server (default 10 s). */
  readonly connectTimeoutMs?: number
}

/** Another running process uses a different configuration on the same server and namespace. */
export class ConfigurationMismatchError extends Error {
  constructor(running: string, mine: string, namespace: string, server: 'Redis' | 'PostgreSQL' = 'Redis') {
    super(
      `the processes running on this ${server} (namespace "${namespace}") use another configuration (sha256 ${running.slice(0, 12)}…, this one ${mine.slice(0, 12)}…): ` +
        'every API and worker process must run the same configuration file; stop them all (or wait until none is left) before changing it'
    )
    this.name = 'ConfigurationMismatchError'
  }
}

interface JobData {
  /** Event id and record generation. */
  readonly id: string
  readonly g: string
  /** The target's index in the event's targets. */
  readonly i: number
  /** When the retry budget started. */
  readonly b: number
  readonly a: string
  readonly s: string
  /** The dead letter this job replays. */
  readonly lt?: string
}

interface Held {
  readonly job: Job<JobData>
  readonly token: string
  readonly lane: string
  readonly data: JobData
  readonly target: TargetRef
}

interface PendingSettlement {
  readonly settlement: Settlement
  readonly now: number
}

/** How long a process's hold on the configuration lasts without renewal. */
export const CONFIG_TTL_MS = 15_000
const CHUNK = 500
const JOB_NAME = 'delivery'
const NOT_CONFIGURED = (target: TargetRef) =>
  `not delivered: the configuration no longer has instance "${target.instance}" with action "${target.action}" (subscription "${target.subscription}")`

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** BullMQ refuses `:` in queue names and job ids: a source's lane `source:<id>` becomes queue `q-source.<id>`. */
export function queueNameOf(lane: string): string {
  return `q-${lane.replace(/:/g, '.')}`
}

/** The stable part of a delivery's job id: (instance, action, subscription, event id), hashed; no `:`. */
export function jobHashOf(target: TargetRef, eventId: string): string {
  return createHash('sha256')
    .update(`${targetKey(target)}\u0000${eventId}`)
    .digest('base64url')
    .slice(0, 22)
}

function statusOf(result: StoredResult): TargetResult['status'] {
  switch (result.st) {
    case 'd':
      return 'delivered'
    case 'x':
      return 'dead_lettered'
    case 'f':
      return result.at > 1 ? 'retrying' : 'queued'
    default:
      return result.at > 0 ? 'retrying' : 'queued'
  }
}

function identityOf(event: SegmentEvent): { u?: string; an?: string } {
  const { userId, anonymousId } = event as { userId?: unknown; anonymousId?: unknown }
  return {
    ...(userId === undefined || userId === null || userId === '' ? {} : { u: String(userId) }),
    ...(anonymousId === undefined || anonymousId === null || anonymousId === '' ? {} : { an: String(anonymousId) })
  }
}

/**
 * A delivery store on BullMQ, for several API and worker processes on any machines: each destination instance (lane)
 * is a BullMQ queue whose jobs are its deliveries (idempotent ids from instance, action, subscription and event id;
 * locks, stalled-job recovery when a worker dies, delayed jobs for retries and `Retry-After`, a rate limiter shared by
 * all workers), and the records around them (results, dedupe window, dead letters, per-delivery state) are written
 * atomically by the backend's `Records` (Redis scripts, or PostgreSQL transactions). Time is the caller's clock, as
 * for every store: a retry is handed out once the `now` given to `claim` reaches it.
 */
export class BullMqStore implements DeliveryStore {
  readonly kind: string
  private readonly lockDurationMs: number
  private readonly queues = new Map<string, Queue<JobData>>()
  private readonly workers = new Map<string, Worker<JobData>>()
  private readonly held = new Map<string, Held>()
  private readonly emptyAt = new Map<string, number>()
  private readonly limitedUntil = new Map<string, number>()
  private pendingSettlements: PendingSettlement[] = []
  /** The settlements being written now. */
  private writing: readonly PendingSettlement[] = []
  private settling: Promise<void> | undefined
  private settleTimer: NodeJS.Timeout | undefined
  private readonly timers: NodeJS.Timeout[] = []
  private cachedBacklog = 0
  private currentHealth: StoreHealth = { ok: true }
  private tokens = 0
  private closed = false
  private subscribed = false
  /** What the backend last said of its connection. */
  private reachable = true
  private readonly workListeners: ((lane: string) => void)[] = []

  protected constructor(
    protected readonly records: Records,
    private readonly options: BullMqStoreOptions
  ) {
    this.kind = records.kind
    this.lockDurationMs = options.lockDurationMs ?? 30_000
    records.onHealth((health) => {
      if (this.closed) return
      this.reachable = health.ok
      if (health.ok) this.markHealthy()
      else this.markUnhealthy(new Error(health.error ?? 'the server is unreachable'))
    })
  }

  /** Connects a new store, or closes it and throws (the server unreachable, another configuration running). */
  protected static async started<T extends BullMqStore>(store: T): Promise<T> {
    try {
      await store.connect()
      return store
    } catch (error) {
      await store.close().catch(() => undefined)
      throw error
    }
  }

  /** Connects (waiting up to `connectTimeoutMs`), checks the configuration hash and reads the backlog. */
  protected async connect(): Promise<void> {
    await this.records.connect(this.options.connectTimeoutMs ?? 10_000)
    if (this.options.configHash !== undefined) await this.records.holdConfiguration(this.options.configHash)
    this.cachedBacklog = await this.records.backlog()
    this.every(1000, async () => {
      this.cachedBacklog = await this.records.backlog()
    })
    this.every(Math.max(500, Math.floor(this.lockDurationMs / 3)), () => this.extendLocks())
  }

  private every(ms: number, task: () => Promise<void>): void {
    const timer = setInterval(() => {
      task().catch(() => undefined)
    }, ms)
    timer.unref()
    this.timers.push(timer)
  }

  get health(): StoreHealth {
    return this.currentHealth
  }

  get backlog(): number {
    return Math.max(0, this.cachedBacklog)
  }

  /** Deliveries committed by any process for these lanes: the listener wakes the lane's worker. */
  onNewWork(listener: (lane: string) => void): void {
    this.workListeners.push(listener)
    if (this.subscribed) return
    this.subscribed = true
    this.records.subscribe((lane) => {
      for (const notify of this.workListeners) notify(lane)
    })
  }

  private queue(lane: string): Queue<JobData> {
    let queue = this.queues.get(lane)
    if (!queue) {
      queue = this.records.newQueue<JobData>(queueNameOf(lane))
      queue.on('error', () => undefined)
      this.queues.set(lane, queue)
    }
    return queue
  }

  private worker(lane: string): Worker<JobData> {
    let worker = this.workers.get(lane)
    if (!worker) {
      const limit = this.options.rateLimits?.get(lane)
      worker = this.records.newWorker<JobData>(queueNameOf(lane), {
        lockDuration: this.lockDurationMs,
        stalledInterval: Math.max(1000, Math.floor(this.lockDurationMs / 2)),
        // A delivery is never failed for stalling: it goes back to the queue however often its worker dies (a billion
        // times; PostgreSQL keeps the count in a 32-bit integer).
        maxStalledCount: 1_000_000_000,
        ...(limit ? { limiter: { max: limit.max, duration: limit.durationMs } } : {})
      })
      worker.on('error', () => undefined)
      // Jobs of workers that died come back to the queue once their lock runs out.
      void worker.startStalledCheckTimer().catch(() => undefined)
      this.workers.set(lane, worker)
    }
    return worker
  }

  private async unavailable<T>(what: string, work: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreUnavailableError('the store is closed')
    try {
      const result = await work()
      this.markHealthy()
      return result
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error
      this.markUnhealthy(error)
      throw new StoreUnavailableError(`the store cannot ${what}: ${describeError(error)}`, { cause: error })
    }
  }

  async accept(
    events: readonly NewEvent[],
    options: { readonly now: number; readonly dedupeWindowMs: number }
  ): Promise<Accepted[]> {
    return this.unavailable('commit events', async () => {
      const seen = new Set<string>()
      const fresh: NewEvent[] = []
      for (const input of events) {
        if (seen.has(input.eventId)) continue
        seen.add(input.eventId)
        fresh.push(input)
      }
      const items = fresh.map((input) => ({
        id: input.eventId,
        e: JSON.stringify(input.event),
        rc: input.receivedAt,
        t: JSON.stringify(input.targets.map(plainTarget)),
        h: input.targets.map((target) => jobHashOf(target, input.eventId)),
        l: input.targets.map((target) => target.instance),
        ...identityOf(input.event)
      }))
      const verdicts = fresh.length === 0 ? [] : await this.records.begin(items, options.now, options.dedupeWindowMs)
      const jobsByLane = new Map<string, { name: string; data: JobData; opts: object }[]>()
      const commits: { id: string; g: string; tk: string[] }[] = []
      fresh.forEach((input, index) => {
        const verdict = verdicts[index]
        if (verdict?.verdict !== 'new') return
        const g = verdict.generation
        input.targets.forEach((target, i) => {
          const jobs = jobsByLane.get(target.instance) ?? []
          jobs.push({
            name: JOB_NAME,
            data: { id: input.eventId, g, i, b: input.receivedAt, a: target.action, s: target.subscription },
            opts: { jobId: `${items[index]?.h[i]}-${g}`, removeOnComplete: true, removeOnFail: true }
          })
          jobsByLane.set(target.instance, jobs)
        })
        commits.push({ id: input.eventId, g, tk: input.targets.map((target) => JSON.stringify(plainTarget(target))) })
      })
      for (const [lane, jobs] of jobsByLane)
        for (let start = 0; start < jobs.length; start += CHUNK)
          await this.queue(lane).addBulk(jobs.slice(start, start + CHUNK))
      if (commits.length > 0) {
        this.cachedBacklog = await this.records.commit(commits, options.now)
        await this.records.publish(jobsByLane.keys())
      }
      const answers = new Map<string, Accepted>()
      for (const [index, input] of fresh.entries()) {
        const verdict = verdicts[index]
        if (verdict?.verdict === 'new') {
          answers.set(input.eventId, {
            eventId: input.eventId,
            duplicate: false,
            result: {
              eventId: input.eventId,
              receivedAt: new Date(input.receivedAt).toISOString(),
              targets: input.targets.map((target) => ({ ...plainTarget(target), status: 'queued', attempts: 0 }))
            }
          })
        } else {
          const earlier = verdict?.generation ? await this.resultOf(input.eventId, verdict.generation) : undefined
          answers.set(input.eventId, duplicateOf(input, earlier))
        }
      }
      return events.map((input) => {
        const answer = answers.get(input.eventId)
        if (answer && fresh.includes(input)) return answer
        return duplicateOf(input, answer?.result)
      })
    })
  }

  async claim(lane: string, limit: number, now: number): Promise<Claim[]> {
    if (limit <= 0 || this.closed) return []
    const queue = this.queue(lane)
    const worker = this.worker(lane)
    // Retries due by the caller's clock go back to the queue now (BullMQ's own timer promotes them about then too).
    const due = await this.records.retriesDue(lane, now, CHUNK)
    // One after another: they join the queue in this order (due time, then acceptance).
    for (const id of due)
      await new Job<JobData>(queue, JOB_NAME, {} as JobData, {}, id).promote().catch(() => undefined)
    const jobs: { job: Job<JobData>; token: string }[] = []
    while (jobs.length < limit) {
      this.tokens += 1
      const token = `${this.options.owner}/${this.tokens}`
      const job = await worker.getNextJob(token, { block: false })
      if (!job) break
      jobs.push({ job: job as Job<JobData>, token })
    }
    if (jobs.length < limit && this.options.rateLimits?.has(lane)) {
      // Fewer than asked: if the shared limiter is why, nothing is due for this lane before it lets more through.
      const ttl = await queue.getRateLimitTtl()
      if (ttl > 0) this.limitedUntil.set(lane, now + ttl)
      else this.limitedUntil.delete(lane)
    }
    if (jobs.length === 0) {
      this.emptyAt.set(lane, now)
      return []
    }
    this.emptyAt.delete(lane)
    const items: ClaimItem[] = jobs.map(({ job }) => ({
      id: job.data.id,
      g: job.data.g,
      i: job.data.i,
      j: job.id ?? '',
      l: lane,
      ...(job.data.lt === undefined ? {} : { lt: job.data.lt })
    }))
    const replies = await this.records.claim(items, now)
    const claims: Claim[] = []
    const events = new Map<string, SegmentEvent>()
    const done: Promise<unknown>[] = []
    jobs.forEach(({ job, token }, index) => {
      const reply = replies[index] ?? { kind: 'stale' }
      if (reply.kind !== 'ok') {
        // Purged, replaced by a replay, or already settled (a stalled job handed out again): nothing to send.
        done.push(job.moveToCompleted(reply.kind, token, false).catch(() => undefined))
        return
      }
      const cacheKey = `${job.data.id}|${job.data.g}`
      let event = events.get(cacheKey)
      if (!event) {
        event = JSON.parse(reply.event) as SegmentEvent
        events.set(cacheKey, event)
      }
      const target = (JSON.parse(reply.targets) as TargetRef[])[job.data.i] ?? {
        instance: lane,
        integration: 'unknown',
        action: job.data.a,
        subscription: job.data.s
      }
      const state: Record<string, string> = {}
      for (const [key, value] of reply.state) {
        const entry = JSON.parse(value) as { v: string; x: number }
        if (entry.x > now) state[key] = entry.v
      }
      this.held.set(token, { job, token, lane, data: job.data, target })
      claims.push({
        id: token,
        eventId: job.data.id,
        event,
        target,
        attempt: reply.attempt,
        budgetStart: job.data.b,
        state
      })
    })
    await Promise.all(done)
    return claims
  }

  async nextDueAt(lane: string): Promise<number | undefined> {
    let at = await this.records.nextDue(lane)
    // Retries settled here and not written yet are due too: a wake-up must not be lost while they are being written.
    for (const { settlement } of [...this.writing, ...this.pendingSettlements])
      if (settlement.outcome === 'retry' && this.held.get(settlement.id)?.lane === lane)
        at = at === undefined ? settlement.at : Math.min(at, settlement.at)
    if (at === undefined) return undefined
    // Due entries the last claim could not get (another worker holds them): look again shortly, not in a loop.
    const empty = this.emptyAt.get(lane)
    if (empty !== undefined && at <= empty) at = empty + 50
    const limited = this.limitedUntil.get(lane)
    if (limited !== undefined && limited > at) at = limited
    return at
  }

  settle(settlements: readonly Settlement[], now: number): void {
    for (const settlement of settlements) this.pendingSettlements.push({ settlement, now })
    this.scheduleSettle(0)
  }

  private scheduleSettle(delay: number): void {
    if (this.settleTimer || this.settling) return
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined
      this.settling = this.writeSettlements().finally(() => {
        this.settling = undefined
        if (this.pendingSettlements.length > 0) this.scheduleSettle(this.currentHealth.ok ? 0 : 1000)
      })
    }, delay)
  }

  private async writeSettlements(): Promise<void> {
    const batch = this.pendingSettlements.splice(0, CHUNK)
    if (batch.length === 0) return
    this.writing = batch
    try {
      await this.writeBatch(batch)
    } finally {
      this.writing = []
    }
  }

  private async writeBatch(batch: PendingSettlement[]): Promise<void> {
    const known = batch.filter(({ settlement }) => this.held.has(settlement.id))
    const byNow = new Map<number, PendingSettlement[]>()
    for (const entry of known) byNow.set(entry.now, [...(byNow.get(entry.now) ?? []), entry])
    try {
      for (const [now, entries] of byNow) {
        const items = entries.map(({ settlement }) => this.settlementItem(settlement))
        await this.records.settle(items, now)
        await Promise.all(entries.map(({ settlement }) => this.finishJob(settlement, now)))
      }
      this.cachedBacklog = await this.records.backlog()
      this.markHealthy()
    } catch (error) {
      this.markUnhealthy(error)
      this.pendingSettlements.unshift(...batch.filter(({ settlement }) => this.held.has(settlement.id)))
    }
  }

  private settlementItem(settlement: Settlement): SettleItem {
    const held = this.held.get(settlement.id) as Held
    const base = {
      id: held.data.id,
      g: held.data.g,
      i: held.data.i,
      j: held.job.id ?? '',
      o: settlement.outcome,
      ...(settlement.status === undefined ? {} : { hs: settlement.status })
    }
    const state =
      settlement.state && settlement.state.length > 0
        ? {
            st: settlement.state.map((write) => ({
              k: write.key,
              v: JSON.stringify({ v: write.value, x: write.expiresAt })
            }))
          }
        : {}
    if (settlement.outcome === 'delivered')
      return { ...base, ...(settlement.detail === undefined ? {} : { dt: JSON.stringify(settlement.detail) }) }
    if (settlement.outcome === 'retry')
      return { ...base, at: settlement.at, dt: JSON.stringify(settlement.reason), ...state }
    return {
      ...base,
      dt: JSON.stringify(settlement.reason),
      rs: settlement.reason,
      tin: held.target.instance,
      tg: JSON.stringify(plainTarget(held.target)),
      ...state
    }
  }

  /** The BullMQ side of a settlement, after its record is written: the job completes, fails or waits. */
  private async finishJob(settlement: Settlement, now: number): Promise<void> {
    const held = this.held.get(settlement.id)
    if (!held) return
    this.held.delete(settlement.id)
    try {
      if (settlement.outcome === 'retry')
        await held.job.moveToDelayed(Date.now() + Math.max(0, settlement.at - now), held.token)
      else if (settlement.outcome === 'delivered') await held.job.moveToCompleted('delivered', held.token, false)
      else await held.job.moveToFailed(new Error(settlement.reason), held.token, false)
    } catch (error) {
      // The lock ran out (the job was handed to another worker): its record is settled, so that worker skips it.
      this.options.logger?.debug('delivery job already moved', { job: held.job.id, error: describeError(error) })
    }
  }

  async flushSettlements(): Promise<void> {
    for (let rounds = 0; rounds < 10_000; rounds++) {
      if (this.settleTimer) {
        clearTimeout(this.settleTimer)
        this.settleTimer = undefined
      }
      if (this.settling) await this.settling
      if (this.pendingSettlements.length === 0) return
      this.settling = this.writeSettlements().finally(() => {
        this.settling = undefined
      })
      await this.settling
      if (!this.currentHealth.ok) return
    }
  }

  private extendLocks = async (): Promise<void> => {
    const byLane = new Map<string, Held[]>()
    for (const held of this.held.values()) byLane.set(held.lane, [...(byLane.get(held.lane) ?? []), held])
    for (const [lane, entries] of byLane)
      await this.workers.get(lane)?.extendJobLocks(
        entries.map((entry) => entry.job.id ?? ''),
        entries.map((entry) => entry.token),
        this.lockDurationMs
      )
  }

  async eventResult(eventId: string): Promise<EventResult | undefined> {
    const generation = await this.records.current(eventId)
    return generation === undefined ? undefined : this.resultOf(eventId, generation)
  }

  private async resultOf(eventId: string, generation: string): Promise<EventResult | undefined> {
    const record = await this.records.record(`${eventId}|${generation}`)
    if (record.t === undefined || record.rc === undefined) return undefined
    const targets = JSON.parse(record.t) as TargetRef[]
    return {
      eventId,
      receivedAt: new Date(Number(record.rc)).toISOString(),
      targets: targets.map((target, index) => {
        const stored = JSON.parse(record[`r:${index}`] ?? '{"st":"p","at":0}') as StoredResult
        const detailText = record[`d:${index}`]
        const detail = detailText === undefined ? undefined : (JSON.parse(detailText) as unknown)
        return {
          ...plainTarget(target),
          status: statusOf(stored),
          attempts: stored.at,
          ...(stored.hs === undefined ? {} : { httpStatus: stored.hs }),
          ...(detail === undefined ? {} : { detail }),
          ...(stored.st === 'p' && stored.na !== undefined ? { nextAttemptAt: new Date(stored.na).toISOString() } : {}),
          ...(stored.dl === undefined ? {} : { deadLetterId: stored.dl })
        }
      })
    }
  }

  async deadLetters(query: DeadLetterQuery): Promise<DeadLetterPage> {
    const letters: DeadLetter[] = []
    let last: string | undefined
    // The cursor is the last member shown (`<at>|<id>`), base64url-encoded.
    let before = query.cursor === undefined ? undefined : Buffer.from(query.cursor, 'base64url').toString('utf8')
    for (;;) {
      const members = await this.records.letterKeys(before, 200)
      if (members.length === 0) break
      const loaded = await this.loadLetters(members.map(letterIdOf))
      for (const [index, letter] of loaded.entries()) {
        if (!letter || !matches(letter, query)) continue
        if (letters.length === query.limit)
          return {
            deadLetters: letters,
            ...(last ? { nextCursor: Buffer.from(last, 'utf8').toString('base64url') } : {})
          }
        letters.push(letter)
        last = members[index]
      }
      before = members[members.length - 1]
    }
    return { deadLetters: letters }
  }

  private async loadLetters(ids: readonly string[]): Promise<(DeadLetter | undefined)[]> {
    const replies = await this.records.letters(ids)
    return replies.map((fields, index) => {
      if (!fields || fields.m === undefined) return undefined
      const target = JSON.parse(fields.tg ?? '{}') as TargetRef
      return {
        id: ids[index] ?? '',
        at: new Date(Number(fields.at)).toISOString(),
        instance: target.instance,
        integration: target.integration,
        partnerAction: target.action,
        subscription: target.subscription,
        eventId: fields.id ?? '',
        event: JSON.parse(fields.e ?? '{}') as SegmentEvent,
        status: fields.hs ? Number(fields.hs) : undefined,
        reason: fields.rs ?? '',
        attempts: Number(fields.att ?? 0)
      }
    })
  }

  async replay(selection: DeadLetterSelection, options: ReplayOptions): Promise<ReplayReport> {
    return this.unavailable('replay dead letters', async () => {
      const notFound: string[] = []
      let letters: DeadLetter[]
      if ('ids' in selection) {
        const loaded = await this.loadLetters(selection.ids)
        letters = []
        loaded.forEach((letter, index) => {
          if (letter) letters.push(letter)
          else notFound.push(selection.ids[index] ?? '')
        })
      } else {
        letters = []
        let cursor: string | undefined
        do {
          const page = await this.deadLetters({ ...selection.filter, limit: CHUNK, ...(cursor ? { cursor } : {}) })
          letters.push(...page.deadLetters)
          cursor = page.nextCursor
        } while (cursor !== undefined)
      }
      let replayed = 0
      let notReplayable = 0
      for (let start = 0; start < letters.length; start += CHUNK) {
        const chunk = letters.slice(start, start + CHUNK)
        const jobsByLane = new Map<string, { name: string; data: JobData; opts: object }[]>()
        const items: { lt: string; j: string }[] = []
        const generations = await this.letterGenerations(chunk.map((letter) => letter.id))
        chunk.forEach((letter, index) => {
          const target = targetOfLetter(letter)
          const where = generations[index]
          if (!where) return
          if (!options.isReplayable(target)) {
            notReplayable += 1
            return
          }
          const jobId = `${jobHashOf(target, letter.eventId)}-${where.g}-l${letter.id}`
          const jobs = jobsByLane.get(target.instance) ?? []
          jobs.push({
            name: JOB_NAME,
            data: {
              id: letter.eventId,
              g: where.g,
              i: where.i,
              b: options.now,
              a: target.action,
              s: target.subscription,
              lt: letter.id
            },
            opts: { jobId, removeOnComplete: true, removeOnFail: true }
          })
          jobsByLane.set(target.instance, jobs)
          items.push({ lt: letter.id, j: jobId })
        })
        for (const [lane, jobs] of jobsByLane) await this.queue(lane).addBulk(jobs)
        if (items.length > 0) {
          const done = await this.records.replay(items, options.now)
          done.forEach((one, index) => {
            if (one === 1) replayed += 1
            else notFound.push(items[index]?.lt ?? '')
          })
          await this.records.publish(jobsByLane.keys())
        }
        options.onProgress?.({ replayed, notReplayable, notFound })
      }
      this.cachedBacklog = await this.records.backlog()
      return { replayed, notReplayable, notFound }
    })
  }

  private async letterGenerations(ids: readonly string[]): Promise<({ g: string; i: number } | undefined)[]> {
    const letters = await this.records.letters(ids)
    return letters.map((fields) =>
      fields?.g === undefined || fields.i === undefined ? undefined : { g: fields.g, i: Number(fields.i) }
    )
  }

  async resume(
    isConfigured: (target: TargetRef) => boolean,
    now: number
  ): Promise<{ resumed: number; orphaned: number }> {
    const lanes = await this.records.lanes()
    let resumed = 0
    for (const lane of lanes) {
      const queue = this.queue(lane)
      const active = await queue.getActive()
      for (const job of active) {
        if (!job.id) continue
        const lock = await this.records.lockOf(queueNameOf(lane), job.id)
        if (lock === null || !lock.startsWith(`${this.options.owner}/`)) continue
        const moved = await (job as Job<JobData>).moveToWait(lock).then(
          () => true,
          () => false
        )
        if (!moved) continue
        await this.records.addDue(lane, job.id, now)
        resumed += 1
      }
    }
    let orphaned = 0
    for (const text of await this.records.targets()) {
      const target = JSON.parse(text) as TargetRef
      if (isConfigured(target)) continue
      const queue = this.queue(target.instance)
      // Page through each state's list; what is dead-lettered leaves it, so the next page starts that much earlier.
      for (const state of ['wait', 'delayed', 'prioritized'] as const) {
        let offset = 0
        for (;;) {
          const page = await queue.getJobs([state], offset, offset + CHUNK - 1, true)
          if (page.length === 0) break
          const jobs = page.filter((job) => job.data.a === target.action && job.data.s === target.subscription)
          if (jobs.length > 0) {
            const items: SettleItem[] = jobs.map((job) => ({
              id: job.data.id,
              g: job.data.g,
              i: job.data.i,
              j: job.id ?? '',
              o: 'dead',
              dt: JSON.stringify(NOT_CONFIGURED(target)),
              rs: NOT_CONFIGURED(target),
              tin: target.instance,
              tg: JSON.stringify(plainTarget(target))
            }))
            const replies = await this.records.settle(items, now)
            orphaned += replies.filter((reply) => reply !== 0).length
            await Promise.all(jobs.map((job) => queue.remove(job.id ?? '').catch(() => 0)))
          }
          offset += page.length - jobs.length
        }
      }
      await this.records.removeTarget(text)
    }
    this.cachedBacklog = await this.records.backlog()
    return { resumed, orphaned }
  }

  async importDeadLetters(letters: readonly DeadLetter[]): Promise<number> {
    if (letters.length === 0) return 0
    let added = 0
    for (let start = 0; start < letters.length; start += CHUNK) {
      const items = letters.slice(start, start + CHUNK).map((letter) => {
        const target = targetOfLetter(letter)
        const at = Date.parse(letter.at)
        return {
          lid: letter.id,
          id: letter.eventId,
          at: Number.isFinite(at) ? at : 0,
          rc: Number.isFinite(at) ? at : 0,
          e: JSON.stringify(letter.event),
          t: JSON.stringify([target]),
          h: jobHashOf(target, letter.eventId),
          l: target.instance,
          tin: target.instance,
          tg: JSON.stringify(target),
          rs: letter.reason,
          dt: JSON.stringify(letter.reason),
          att: letter.attempts,
          ...(letter.status === undefined ? {} : { hs: letter.status }),
          ...identityOf(letter.event)
        }
      })
      added += await this.records.importLetters(items)
    }
    return added
  }

  async counts(): Promise<StoreCounts> {
    const counts = await this.records.counts()
    this.cachedBacklog = counts.backlog
    return { ...counts, backlog: this.backlog }
  }

  async purgeUser(identity: UserIdentity): Promise<PurgeReport & { readonly eventIds: readonly string[] }> {
    return this.unavailable('purge a user', async () => {
      const records = await this.records.userRecords(identity.userId, identity.anonymousIds)
      // Deliveries not handed out yet leave BullMQ; those in flight settle into nothing (their record is gone).
      for (const idg of records) {
        const record = await this.records.record(idg)
        for (const [field, value] of Object.entries(record)) {
          if (!field.startsWith('r:')) continue
          const stored = JSON.parse(value) as StoredResult
          if (stored.st === 'p')
            await this.queue(stored.l)
              .remove(stored.j)
              .catch(() => 0)
        }
      }
      const { events, deliveries, deadLetters } = await this.records.purge(records)
      this.cachedBacklog = await this.records.backlog()
      const eventIds = [...new Set(records.map((idg) => idg.slice(0, idg.lastIndexOf('|'))))]
      return { events, deliveries, deadLetters, eventIds }
    })
  }

  async recordDeletion(record: DeletionRecord): Promise<void> {
    await this.unavailable('record a deletion', () => this.records.saveDeletion(record.id, JSON.stringify(record)))
  }

  async deletion(id: string): Promise<DeletionRecord | undefined> {
    const text = await this.records.deletion(id)
    return text === undefined ? undefined : (JSON.parse(text) as DeletionRecord)
  }

  async prune(retention: Retention, now: number): Promise<PruneReport> {
    let deadLetters = 0
    let events = 0
    const dropLetters = async (keys: readonly string[]) => {
      if (keys.length === 0) return
      const dropped = await this.records.dropLetters(keys.map(letterIdOf))
      deadLetters += dropped.letters
      events += dropped.events
    }
    for (;;) {
      const keys = await this.records.lettersOlderThan(now - retention.deadLettersMs, CHUNK)
      if (keys.length === 0) break
      await dropLetters(keys)
    }
    const excessLetters = (await this.records.letterCount()) - retention.maxDeadLetters
    if (excessLetters > 0) await dropLetters(await this.records.oldestLetters(excessLetters))
    let delivered = 0
    for (;;) {
      const done = await this.records.doneBefore(now - retention.deliveredMs, CHUNK)
      if (done.length === 0) break
      delivered += await this.records.dropRecords(done)
    }
    const excessDelivered = (await this.records.doneCount()) - retention.maxDelivered
    if (excessDelivered > 0) delivered += await this.records.dropRecords(await this.records.oldestDone(excessDelivered))
    const dedupeKeys = await this.records.pruneDedupe(now - retention.dedupeWindowMs)
    return { delivered, deadLetters, dedupeKeys, events: events + delivered }
  }

  async close(): Promise<void> {
    if (this.closed) return
    if (this.reachable) await this.flushSettlements().catch(() => undefined)
    this.closed = true
    for (const timer of this.timers) clearInterval(timer)
    if (this.settleTimer) clearTimeout(this.settleTimer)
    await Promise.all([...this.workers.values()].map((worker) => worker.close(true).catch(() => undefined)))
    await Promise.all([...this.queues.values()].map((queue) => queue.close().catch(() => undefined)))
    await this.records.close()
  }

  private markUnhealthy(error: unknown): void {
    const message = describeError(error)
    if (!this.currentHealth.ok && this.currentHealth.error === message) return
    this.currentHealth = { ok: false, error: message, since: this.currentHealth.since ?? new Date().toISOString() }
    this.options.onHealthChange?.(this.currentHealth)
  }

  private markHealthy(): void {
    if (this.currentHealth.ok || !this.reachable) return
    this.currentHealth = { ok: true }
    this.options.onHealthChange?.(this.currentHealth)
  }
}

function plainTarget(target: TargetRef): TargetRef {
  return {
    instance: target.instance,
    integration: target.integration,
    action: target.action,
    subscription: target.subscription
  }
}

function targetOfLetter(letter: DeadLetter): TargetRef {
  return {
    instance: letter.instance,
    integration: letter.integration,
    action: letter.partnerAction,
    subscription: letter.subscription
  }
}

function duplicateOf(input: NewEvent, earlier: EventResult | undefined): Accepted {
  return {
    eventId: input.eventId,
    duplicate: true,
    result: {
      ...(earlier ?? { eventId: input.eventId, receivedAt: new Date(input.receivedAt).toISOString(), targets: [] }),
      duplicate: true
    }
  }
}

/** A dead letter's member in the sorted set is `<at, 15 digits>|<id>`. */
function letterIdOf(member: string): string {
  return member.slice(member.indexOf('|') + 1)
}

function matches(letter: DeadLetter, filter: DeadLetterFilter): boolean {
  const at = Date.parse(letter.at)
  return (
    (filter.instance === undefined || letter.instance === filter.instance) &&
    (filter.action === undefined || letter.partnerAction === filter.action) &&
    (filter.reason === undefined || letter.reason.toLowerCase().includes(filter.reason.toLowerCase())) &&
    (filter.since === undefined || at >= filter.since) &&
    (filter.until === undefined || at < filter.until)
  )
}
