import { createHash } from 'node:crypto'
import type { SegmentEvent } from '@segment/actions-core'
import { Job, Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import type { Logger } from '../logger'
import type { EventResult, TargetRef, TargetResult } from './results'
import { targetKey } from './results'
import * as scripts from './redis-scripts'
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

export interface RedisStoreOptions {
  /** `redis://[:password@]host:port[/db]` (or `rediss://`). */
  readonly url: string
  /** Names every key (BullMQ's and the store's), inside a Redis Cluster hash tag. Default `open-actions`. */
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
  /** How long `open` waits for Redis (default 10 s). */
  readonly connectTimeoutMs?: number
}

/** Another running process uses a different configuration on the same Redis and namespace. */
export class ConfigurationMismatchError extends Error {
  constructor(running: string, mine: string, namespace: string) {
    super(
      `the processes running on this Redis (namespace "${namespace}") use another configuration (sha256 ${running.slice(0, 12)}…, this one ${mine.slice(0, 12)}…): ` +
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

type ScriptReply = string | number | null | ScriptReply[]

const CONFIG_TTL_MS = 15_000
const CHUNK = 500
const JOB_NAME = 'delivery'
const NOT_CONFIGURED = (target: TargetRef) =>
  `not delivered: the configuration no longer has instance "${target.instance}" with action "${target.action}" (subscription "${target.subscription}")`

function describeError(error: unknown): string {
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

interface StoredResult {
  readonly st: 'p' | 'f' | 'd' | 'x'
  readonly at: number
  readonly hs?: number
  readonly na?: number
  readonly dl?: string
  readonly j: string
  readonly l: string
}

function identityOf(event: SegmentEvent): { u?: string; an?: string } {
  const { userId, anonymousId } = event as { userId?: unknown; anonymousId?: unknown }
  return {
    ...(userId === undefined || userId === null || userId === '' ? {} : { u: String(userId) }),
    ...(anonymousId === undefined || anonymousId === null || anonymousId === '' ? {} : { an: String(anonymousId) })
  }
}

/**
 * The delivery store on Redis, for several API and worker processes on any machines: each destination instance (lane)
 * is a BullMQ queue whose jobs are its deliveries (idempotent ids from instance, action, subscription and event id;
 * locks, stalled-job recovery when a worker dies, delayed jobs for retries and `Retry-After`, a rate limiter shared by
 * all workers), and the records around them (results, dedupe window, dead letters, per-delivery state) are Redis
 * hashes written by scripts (`redis-scripts.ts`), atomically. Time is the caller's clock, as for every store: a
 * retry is handed out once the `now` given to `claim` reaches it.
 */
export class RedisStore implements DeliveryStore {
  readonly kind = 'redis'
  private readonly client: Redis
  private readonly workerClient: Redis
  private subscriber: Redis | undefined
  private readonly base: string
  private readonly namespace: string
  private readonly lockDurationMs: number
  private readonly queues = new Map<string, Queue<JobData>>()
  private readonly workers = new Map<string, Worker<JobData>>()
  private readonly held = new Map<string, Held>()
  private readonly emptyAt = new Map<string, number>()
  private readonly limitedUntil = new Map<string, number>()
  private readonly shas = new Map<string, string>()
  private pendingSettlements: PendingSettlement[] = []
  private settling: Promise<void> | undefined
  private settleTimer: NodeJS.Timeout | undefined
  private readonly timers: NodeJS.Timeout[] = []
  private cachedBacklog = 0
  private currentHealth: StoreHealth = { ok: true }
  private tokens = 0
  private closed = false
  private readonly workListeners: ((lane: string) => void)[] = []

  private constructor(private readonly options: RedisStoreOptions) {
    this.namespace = options.namespace ?? 'open-actions'
    this.base = `{${this.namespace}}`
    this.lockDurationMs = options.lockDurationMs ?? 30_000
    // Commands fail at once while Redis is unreachable (the API answers 503), rather than waiting in a queue.
    this.client = new Redis(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      lazyConnect: true,
      retryStrategy: (times) => Math.min(times * 200, 2000)
    })
    // BullMQ's workers wait for Redis to come back instead (its requirement: no per-request retry limit).
    this.workerClient = new Redis(options.url, {
      maxRetriesPerRequest: null,
      lazyConnect: true,
      retryStrategy: (times) => Math.min(times * 200, 2000)
    })
    this.client.on('error', (error: Error) => this.markUnhealthy(error))
    this.workerClient.on('error', () => undefined)
    this.client.on('ready', () => this.markHealthy())
    this.client.on('close', () => {
      if (!this.closed) this.markUnhealthy(new Error(`the connection to Redis at ${redactUrl(options.url)} closed`))
    })
  }

  /** Connects (waiting up to `connectTimeoutMs`), checks the configuration hash and reads the backlog. */
  static async open(options: RedisStoreOptions): Promise<RedisStore> {
    const store = new RedisStore(options)
    try {
      await store.connect()
      return store
    } catch (error) {
      await store.close().catch(() => undefined)
      throw error
    }
  }

  private async connect(): Promise<void> {
    const timeoutMs = this.options.connectTimeoutMs ?? 10_000
    const where = redactUrl(this.options.url)
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`cannot reach Redis at ${where} within ${timeoutMs} ms`)), timeoutMs)
    })
    try {
      await Promise.race([Promise.all([this.client.connect(), this.workerClient.connect()]), timeout])
    } finally {
      if (timer) clearTimeout(timer)
    }
    if (this.options.configHash !== undefined) await this.holdConfiguration(this.options.configHash)
    this.cachedBacklog = Number((await this.client.get(this.key('backlog'))) ?? 0)
    this.every(1000, async () => {
      this.cachedBacklog = Number((await this.client.get(this.key('backlog'))) ?? 0)
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

  private async holdConfiguration(hash: string): Promise<void> {
    const key = this.key('config')
    const claimed = await this.client.set(key, hash, 'PX', CONFIG_TTL_MS, 'NX')
    if (claimed === null) {
      const running = await this.client.get(key)
      if (running !== null && running !== hash) throw new ConfigurationMismatchError(running, hash, this.namespace)
      await this.client.set(key, hash, 'PX', CONFIG_TTL_MS)
    }
    this.every(CONFIG_TTL_MS / 3, async () => {
      const running = await this.client.get(key)
      if (running === null || running === hash) await this.client.set(key, hash, 'PX', CONFIG_TTL_MS)
    })
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
    if (this.subscriber) return
    const subscriber = this.client.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null })
    subscriber.on('error', () => undefined)
    subscriber.on('message', (_channel: string, lane: string) => {
      for (const notify of this.workListeners) notify(lane)
    })
    void subscriber.subscribe(this.key('work')).catch(() => undefined)
    this.subscriber = subscriber
  }

  private key(name: string): string {
    return `${this.base}:~${name}`
  }

  private queue(lane: string): Queue<JobData> {
    let queue = this.queues.get(lane)
    if (!queue) {
      queue = new Queue<JobData>(queueNameOf(lane), {
        connection: this.client,
        prefix: this.base,
        // BullMQ's event stream is not read here: keep it short.
        streams: { events: { maxLen: 100 } }
      })
      queue.on('error', () => undefined)
      this.queues.set(lane, queue)
    }
    return queue
  }

  private worker(lane: string): Worker<JobData> {
    let worker = this.workers.get(lane)
    if (!worker) {
      const limit = this.options.rateLimits?.get(lane)
      worker = new Worker<JobData>(queueNameOf(lane), null, {
        connection: this.workerClient,
        prefix: this.base,
        autorun: false,
        lockDuration: this.lockDurationMs,
        stalledInterval: Math.max(1000, Math.floor(this.lockDurationMs / 2)),
        // A delivery is never failed for stalling: it goes back to the queue however often its worker dies.
        maxStalledCount: Number.MAX_SAFE_INTEGER,
        ...(limit ? { limiter: { max: limit.max, duration: limit.durationMs } } : {})
      })
      worker.on('error', () => undefined)
      // Jobs of workers that died come back to the queue once their lock runs out.
      void worker.startStalledCheckTimer().catch(() => undefined)
      this.workers.set(lane, worker)
    }
    return worker
  }

  private async run(script: string, args: readonly (string | number)[]): Promise<ScriptReply> {
    let sha = this.shas.get(script)
    if (!sha) {
      sha = createHash('sha1').update(script).digest('hex')
      this.shas.set(script, sha)
    }
    try {
      return (await this.client.evalsha(sha, 1, this.key(''), ...args)) as ScriptReply
    } catch (error) {
      if (!describeError(error).includes('NOSCRIPT')) throw error
      return (await this.client.eval(script, 1, this.key(''), ...args)) as ScriptReply
    }
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
      const begun =
        fresh.length === 0
          ? []
          : await this.run(scripts.BEGIN, [JSON.stringify(items), options.now, options.dedupeWindowMs])
      const verdicts = (begun as [string, string][]).map(([verdict, generation]) => ({ verdict, generation }))
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
        this.cachedBacklog = Number(await this.run(scripts.COMMIT, [JSON.stringify(commits), options.now]))
        await this.announce(jobsByLane.keys())
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

  private async announce(lanes: Iterable<string>): Promise<void> {
    for (const lane of lanes) await this.client.publish(this.key('work'), lane)
  }

  async claim(lane: string, limit: number, now: number): Promise<Claim[]> {
    if (limit <= 0 || this.closed) return []
    const queue = this.queue(lane)
    const worker = this.worker(lane)
    // Retries due by the caller's clock go back to the queue now (BullMQ's own timer promotes them about then too).
    const due = await this.client.zrangebyscore(this.key(`retry:${lane}`), '-inf', now, 'LIMIT', 0, CHUNK)
    await Promise.all(
      due.map((id) => new Job<JobData>(queue, JOB_NAME, {} as JobData, {}, id).promote().catch(() => undefined))
    )
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
    const items = jobs.map(({ job }) => ({
      id: job.data.id,
      g: job.data.g,
      i: job.data.i,
      j: job.id,
      l: lane,
      ...(job.data.lt === undefined ? {} : { lt: job.data.lt })
    }))
    const replies = (await this.run(scripts.CLAIM, [JSON.stringify(items), now])) as string[][]
    const claims: Claim[] = []
    const events = new Map<string, SegmentEvent>()
    const done: Promise<unknown>[] = []
    jobs.forEach(({ job, token }, index) => {
      const reply = replies[index] ?? ['stale']
      if (reply[0] !== 'ok') {
        // Purged, replaced by a replay, or already settled (a stalled job handed out again): nothing to send.
        done.push(job.moveToCompleted(reply[0], token, false).catch(() => undefined))
        return
      }
      const [, eventJson = '{}', , targetsJson = '[]', attempt = '1', ...stateFields] = reply
      const cacheKey = `${job.data.id}|${job.data.g}`
      let event = events.get(cacheKey)
      if (!event) {
        event = JSON.parse(eventJson) as SegmentEvent
        events.set(cacheKey, event)
      }
      const target = (JSON.parse(targetsJson) as TargetRef[])[job.data.i] ?? {
        instance: lane,
        integration: 'unknown',
        action: job.data.a,
        subscription: job.data.s
      }
      const state: Record<string, string> = {}
      for (let field = 0; field + 1 < stateFields.length; field += 2) {
        const entry = JSON.parse(stateFields[field + 1] ?? '{}') as { v: string; x: number }
        if (entry.x > now) state[stateFields[field] ?? ''] = entry.v
      }
      this.held.set(token, { job, token, lane, data: job.data, target })
      claims.push({
        id: token,
        eventId: job.data.id,
        event,
        target,
        attempt: Number(attempt),
        budgetStart: job.data.b,
        state
      })
    })
    await Promise.all(done)
    return claims
  }

  async nextDueAt(lane: string): Promise<number | undefined> {
    const first = await this.client.zrange(this.key(`due:${lane}`), 0, 0, 'WITHSCORES')
    let at = first[1] === undefined ? undefined : Number(first[1])
    if (at === undefined) return undefined
    // Due entries the last claim could not get (another worker holds them): look again shortly, not in a loop.
    const empty = this.emptyAt.get(lane)
    if (empty !== undefined && at <= empty) at = empty + 250
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
    const known = batch.filter(({ settlement }) => this.held.has(settlement.id))
    const byNow = new Map<number, PendingSettlement[]>()
    for (const entry of known) byNow.set(entry.now, [...(byNow.get(entry.now) ?? []), entry])
    try {
      for (const [now, entries] of byNow) {
        const items = entries.map(({ settlement }) => this.settlementItem(settlement))
        await this.run(scripts.SETTLE, [JSON.stringify(items), now])
        await Promise.all(entries.map(({ settlement }) => this.finishJob(settlement, now)))
      }
      this.cachedBacklog = Number((await this.client.get(this.key('backlog'))) ?? 0)
      this.markHealthy()
    } catch (error) {
      this.markUnhealthy(error)
      this.pendingSettlements.unshift(...batch.filter(({ settlement }) => this.held.has(settlement.id)))
    }
  }

  private settlementItem(settlement: Settlement): Record<string, unknown> {
    const held = this.held.get(settlement.id) as Held
    const base = {
      id: held.data.id,
      g: held.data.g,
      i: held.data.i,
      j: held.job.id,
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
    const generation = await this.client.hget(this.key('cur'), eventId)
    return generation === null ? undefined : this.resultOf(eventId, generation)
  }

  private async resultOf(eventId: string, generation: string): Promise<EventResult | undefined> {
    const record = await this.client.hgetall(this.key(`ev:${eventId}|${generation}`))
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
    let start = query.cursor === undefined ? '+' : `(${Buffer.from(query.cursor, 'base64url').toString('utf8')}`
    for (;;) {
      const members = await this.client.zrevrangebylex(this.key('dl'), start, '-', 'LIMIT', 0, 200)
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
      start = `(${members[members.length - 1]}`
    }
    return { deadLetters: letters }
  }

  private async loadLetters(ids: readonly string[]): Promise<(DeadLetter | undefined)[]> {
    const pipeline = this.client.pipeline()
    for (const id of ids) pipeline.hgetall(this.key(`dl:${id}`))
    const replies = (await pipeline.exec()) ?? []
    return replies.map(([error, value], index) => {
      const fields = value as Record<string, string> | null
      if (error || !fields || fields.m === undefined) return undefined
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
          const done = (await this.run(scripts.REPLAY, [JSON.stringify(items), options.now])) as number[]
          done.forEach((one, index) => {
            if (one === 1) replayed += 1
            else notFound.push(items[index]?.lt ?? '')
          })
          await this.announce(jobsByLane.keys())
        }
        options.onProgress?.({ replayed, notReplayable, notFound })
      }
      this.cachedBacklog = Number((await this.client.get(this.key('backlog'))) ?? 0)
      return { replayed, notReplayable, notFound }
    })
  }

  private async letterGenerations(ids: readonly string[]): Promise<({ g: string; i: number } | undefined)[]> {
    const pipeline = this.client.pipeline()
    for (const id of ids) pipeline.hmget(this.key(`dl:${id}`), 'g', 'i')
    const replies = (await pipeline.exec()) ?? []
    return replies.map(([error, value]) => {
      const [g, i] = (value as (string | null)[] | null) ?? []
      return error || !g || i === null || i === undefined ? undefined : { g, i: Number(i) }
    })
  }

  async resume(
    isConfigured: (target: TargetRef) => boolean,
    now: number
  ): Promise<{ resumed: number; orphaned: number }> {
    const lanes = await this.client.smembers(this.key('lanes'))
    let resumed = 0
    for (const lane of lanes) {
      const queue = this.queue(lane)
      const active = await queue.getActive()
      for (const job of active) {
        if (!job.id) continue
        const lock = await this.client.get(`${this.base}:${queueNameOf(lane)}:${job.id}:lock`)
        if (lock === null || !lock.startsWith(`${this.options.owner}/`)) continue
        const moved = await (job as Job<JobData>).moveToWait(lock).then(
          () => true,
          () => false
        )
        if (!moved) continue
        await this.client.zadd(this.key(`due:${lane}`), now, job.id)
        resumed += 1
      }
    }
    let orphaned = 0
    for (const text of await this.client.smembers(this.key('targets'))) {
      const target = JSON.parse(text) as TargetRef
      if (isConfigured(target)) continue
      const queue = this.queue(target.instance)
      for (;;) {
        const jobs = (await queue.getJobs(['wait', 'delayed', 'prioritized'], 0, CHUNK * 4)).filter(
          (job) => job.data.a === target.action && job.data.s === target.subscription
        )
        if (jobs.length === 0) break
        const items = jobs.map((job) => ({
          id: job.data.id,
          g: job.data.g,
          i: job.data.i,
          j: job.id,
          o: 'dead',
          dt: JSON.stringify(NOT_CONFIGURED(target)),
          rs: NOT_CONFIGURED(target),
          tin: target.instance,
          tg: JSON.stringify(plainTarget(target))
        }))
        const replies = (await this.run(scripts.SETTLE, [JSON.stringify(items), now])) as (string | number)[]
        orphaned += replies.filter((reply) => reply !== 0).length
        await Promise.all(jobs.map((job) => queue.remove(job.id ?? '').catch(() => 0)))
      }
      await this.client.srem(this.key('targets'), text)
    }
    this.cachedBacklog = Number((await this.client.get(this.key('backlog'))) ?? 0)
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
      added += Number(await this.run(scripts.IMPORT, [JSON.stringify(items)]))
    }
    return added
  }

  async counts(): Promise<StoreCounts> {
    const [backlog, oldest, letters, byInstance] = await Promise.all([
      this.client.get(this.key('backlog')),
      this.client.zrange(this.key('pend'), 0, 0, 'WITHSCORES'),
      this.client.zcard(this.key('dl')),
      this.client.hgetall(this.key('dlc'))
    ])
    this.cachedBacklog = Number(backlog ?? 0)
    const deadLettersByInstance: Record<string, number> = {}
    for (const [instance, count] of Object.entries(byInstance))
      if (Number(count) > 0) deadLettersByInstance[instance] = Number(count)
    return {
      backlog: this.backlog,
      oldestPendingAt: oldest[1] === undefined ? undefined : Number(oldest[1]),
      deadLetters: letters,
      deadLettersByInstance
    }
  }

  async purgeUser(identity: UserIdentity): Promise<PurgeReport & { readonly eventIds: readonly string[] }> {
    return this.unavailable('purge a user', async () => {
      const keys = [
        ...(identity.userId === undefined ? [] : [this.key(`user:${identity.userId}`)]),
        ...identity.anonymousIds.map((id) => this.key(`anon:${id}`))
      ]
      const records = keys.length === 0 ? [] : await this.client.sunion(...keys)
      // Deliveries not handed out yet leave BullMQ; those in flight settle into nothing (their record is gone).
      for (const idg of records) {
        const record = await this.client.hgetall(this.key(`ev:${idg}`))
        for (const [field, value] of Object.entries(record)) {
          if (!field.startsWith('r:')) continue
          const stored = JSON.parse(value) as StoredResult
          if (stored.st === 'p')
            await this.queue(stored.l)
              .remove(stored.j)
              .catch(() => 0)
        }
      }
      const [events = 0, deliveries = 0, deadLetters = 0] = (await this.run(scripts.PURGE, [
        JSON.stringify(records)
      ])) as number[]
      this.cachedBacklog = Number((await this.client.get(this.key('backlog'))) ?? 0)
      const eventIds = [...new Set(records.map((idg) => idg.slice(0, idg.lastIndexOf('|'))))]
      return { events, deliveries, deadLetters, eventIds }
    })
  }

  async recordDeletion(record: DeletionRecord): Promise<void> {
    await this.unavailable('record a deletion', () =>
      this.client.set(this.key(`del:${record.id}`), JSON.stringify(record))
    )
  }

  async deletion(id: string): Promise<DeletionRecord | undefined> {
    const text = await this.client.get(this.key(`del:${id}`))
    return text === null ? undefined : (JSON.parse(text) as DeletionRecord)
  }

  async prune(retention: Retention, now: number): Promise<PruneReport> {
    let deadLetters = 0
    let events = 0
    const dropLetters = async (members: readonly string[]) => {
      if (members.length === 0) return
      const [letters = 0, dropped = 0] = (await this.run(scripts.DROP_LETTERS, [
        JSON.stringify(members.map(letterIdOf))
      ])) as number[]
      deadLetters += letters
      events += dropped
    }
    const oldLetter = `(${String(now - retention.deadLettersMs).padStart(15, '0')}|`
    for (;;) {
      const members = await this.client.zrangebylex(this.key('dl'), '-', oldLetter, 'LIMIT', 0, CHUNK)
      if (members.length === 0) break
      await dropLetters(members)
    }
    const excessLetters = (await this.client.zcard(this.key('dl'))) - retention.maxDeadLetters
    if (excessLetters > 0) await dropLetters(await this.client.zrange(this.key('dl'), 0, excessLetters - 1))
    let delivered = 0
    const dropRecords = async (idgs: readonly string[]) => {
      if (idgs.length > 0) delivered += Number(await this.run(scripts.DROP_RECORDS, [JSON.stringify(idgs)]))
    }
    for (;;) {
      const idgs = await this.client.zrangebyscore(
        this.key('done'),
        '-inf',
        now - retention.deliveredMs,
        'LIMIT',
        0,
        CHUNK
      )
      if (idgs.length === 0) break
      await dropRecords(idgs)
    }
    const excessDelivered = (await this.client.zcard(this.key('done'))) - retention.maxDelivered
    if (excessDelivered > 0) await dropRecords(await this.client.zrange(this.key('done'), 0, excessDelivered - 1))
    const dedupeKeys = await this.client.zremrangebyscore(this.key('dd'), '-inf', now - retention.dedupeWindowMs)
    return { delivered, deadLetters, dedupeKeys, events: events + delivered }
  }

  async close(): Promise<void> {
    if (this.closed) return
    if (this.client.status === 'ready') await this.flushSettlements().catch(() => undefined)
    this.closed = true
    for (const timer of this.timers) clearInterval(timer)
    if (this.settleTimer) clearTimeout(this.settleTimer)
    await Promise.all([...this.workers.values()].map((worker) => worker.close(true).catch(() => undefined)))
    await Promise.all([...this.queues.values()].map((queue) => queue.close().catch(() => undefined)))
    for (const connection of [this.subscriber, this.client, this.workerClient])
      if (connection && connection.status !== 'end') connection.disconnect()
  }

  private markUnhealthy(error: unknown): void {
    const message = describeError(error)
    if (!this.currentHealth.ok && this.currentHealth.error === message) return
    this.currentHealth = { ok: false, error: message, since: this.currentHealth.since ?? new Date().toISOString() }
    this.options.onHealthChange?.(this.currentHealth)
  }

  private markHealthy(): void {
    if (this.currentHealth.ok || this.client.status !== 'ready') return
    this.currentHealth = { ok: true }
    this.options.onHealthChange?.(this.currentHealth)
  }
}

/** A Redis URL without its password, for messages. */
function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@')
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
