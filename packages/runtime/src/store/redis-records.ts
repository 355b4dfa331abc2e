import { createHash } from 'node:crypto'
import { Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { CONFIG_TTL_MS, ConfigurationMismatchError, describeError } from './bullmq-store'
import type {
  BeginItem,
  BeginReply,
  ClaimItem,
  ClaimReply,
  CommitItem,
  ImportItem,
  Records,
  SettleItem,
  WorkerTuning
} from './records'
import * as scripts from './redis-scripts'
import type { StoreHealth } from './store'

type ScriptReply = string | number | null | ScriptReply[]

/** A Redis URL without its password, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@')
}

/**
 * The records on Redis: hashes and sorted sets under `{<namespace>}:~`, written by the scripts of `redis-scripts.ts`
 * (each atomic), next to BullMQ's keys under `{<namespace>}`. One hash tag for everything: Redis Cluster keeps a
 * namespace on one shard, and every script's keys in one slot.
 */
export class RedisRecords implements Records {
  readonly kind = 'redis'
  private readonly client: Redis
  private readonly workerClient: Redis
  private subscriber: Redis | undefined
  private readonly base: string
  private readonly shas = new Map<string, string>()
  private readonly healthListeners: ((health: StoreHealth) => void)[] = []
  private closing = false

  constructor(
    private readonly url: string,
    private readonly namespace: string
  ) {
    this.base = `{${namespace}}`
    // Commands fail at once while Redis is unreachable (the API answers 503), rather than waiting in a queue.
    this.client = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      lazyConnect: true,
      retryStrategy: (times) => Math.min(times * 200, 2000)
    })
    // BullMQ's workers wait for Redis to come back instead (its requirement: no per-request retry limit).
    this.workerClient = new Redis(url, {
      maxRetriesPerRequest: null,
      lazyConnect: true,
      retryStrategy: (times) => Math.min(times * 200, 2000)
    })
    this.client.on('error', (error: Error) => this.tell({ ok: false, error: error.message }))
    this.workerClient.on('error', () => undefined)
    this.client.on('ready', () => this.tell({ ok: true }))
    this.client.on('close', () => {
      if (!this.closing) this.tell({ ok: false, error: `the connection to Redis at ${redactUrl(url)} closed` })
    })
  }

  private tell(health: StoreHealth): void {
    for (const listener of this.healthListeners) listener(health)
  }

  onHealth(listener: (health: StoreHealth) => void): void {
    this.healthListeners.push(listener)
  }

  async connect(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`cannot reach Redis at ${redactUrl(this.url)} within ${timeoutMs} ms`)),
        timeoutMs
      )
    })
    try {
      await Promise.race([Promise.all([this.client.connect(), this.workerClient.connect()]), timeout])
    } finally {
      if (timer) clearTimeout(timer)
    }
  }

  async holdConfiguration(hash: string): Promise<void> {
    const key = this.key('config')
    const claimed = await this.client.set(key, hash, 'PX', CONFIG_TTL_MS, 'NX')
    if (claimed === null) {
      const running = await this.client.get(key)
      if (running !== null && running !== hash)
        throw new ConfigurationMismatchError(running, hash, this.namespace, 'Redis')
      await this.client.set(key, hash, 'PX', CONFIG_TTL_MS)
    }
    const timer = setInterval(() => {
      void (async () => {
        const running = await this.client.get(key)
        if (running === null || running === hash) await this.client.set(key, hash, 'PX', CONFIG_TTL_MS)
      })().catch(() => undefined)
    }, CONFIG_TTL_MS / 3)
    timer.unref()
    this.heartbeat = timer
  }

  private heartbeat: NodeJS.Timeout | undefined

  async close(): Promise<void> {
    this.closing = true
    if (this.heartbeat) clearInterval(this.heartbeat)
    for (const connection of [this.subscriber, this.client, this.workerClient])
      if (connection && connection.status !== 'end') connection.disconnect()
  }

  newQueue<T>(name: string): Queue<T> {
    return new Queue<T>(name, {
      connection: this.client,
      prefix: this.base,
      // BullMQ's event stream is not read here: keep it short.
      streams: { events: { maxLen: 100 } }
    })
  }

  newWorker<T>(name: string, tuning: WorkerTuning): Worker<T> {
    return new Worker<T>(name, null, {
      connection: this.workerClient,
      prefix: this.base,
      autorun: false,
      lockDuration: tuning.lockDuration,
      stalledInterval: tuning.stalledInterval,
      maxStalledCount: tuning.maxStalledCount,
      ...(tuning.limiter ? { limiter: { max: tuning.limiter.max, duration: tuning.limiter.duration } } : {})
    })
  }

  async lockOf(queueName: string, jobId: string): Promise<string | null> {
    return this.client.get(`${this.base}:${queueName}:${jobId}:lock`)
  }

  private key(name: string): string {
    return `${this.base}:~${name}`
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

  async begin(items: readonly BeginItem[], now: number, windowMs: number): Promise<BeginReply[]> {
    const replies = (await this.run(scripts.BEGIN, [JSON.stringify(items), now, windowMs])) as [string, string][]
    return replies.map(([verdict, generation]) => ({ verdict: verdict === 'new' ? 'new' : 'dup', generation }))
  }

  async commit(items: readonly CommitItem[], now: number): Promise<number> {
    return Number(await this.run(scripts.COMMIT, [JSON.stringify(items), now]))
  }

  async claim(items: readonly ClaimItem[], now: number): Promise<ClaimReply[]> {
    const replies = (await this.run(scripts.CLAIM, [JSON.stringify(items), now])) as string[][]
    return replies.map((reply) => {
      if (reply[0] !== 'ok') return { kind: reply[0] === 'final' ? 'final' : 'stale' }
      const [, event = '{}', , targets = '[]', attempt = '1', ...fields] = reply
      const state: [string, string][] = []
      for (let field = 0; field + 1 < fields.length; field += 2)
        state.push([fields[field] ?? '', fields[field + 1] ?? ''])
      return { kind: 'ok', event, targets, attempt: Number(attempt), state }
    })
  }

  async settle(items: readonly SettleItem[], now: number): Promise<(0 | 1 | string)[]> {
    const replies = (await this.run(scripts.SETTLE, [JSON.stringify(items), now])) as (number | string)[]
    return replies.map((reply) => (reply === 0 ? 0 : reply === 1 ? 1 : String(reply)))
  }

  async replay(items: readonly { readonly lt: string; readonly j: string }[], now: number): Promise<number[]> {
    return (await this.run(scripts.REPLAY, [JSON.stringify(items), now])) as number[]
  }

  async purge(records: readonly string[]) {
    const [events = 0, deliveries = 0, deadLetters = 0] = (await this.run(scripts.PURGE, [
      JSON.stringify(records)
    ])) as number[]
    return { events, deliveries, deadLetters }
  }

  async dropLetters(ids: readonly string[]) {
    const [letters = 0, events = 0] = (await this.run(scripts.DROP_LETTERS, [JSON.stringify(ids)])) as number[]
    return { letters, events }
  }

  async dropRecords(records: readonly string[]): Promise<number> {
    return Number(await this.run(scripts.DROP_RECORDS, [JSON.stringify(records)]))
  }

  async importLetters(items: readonly ImportItem[]): Promise<number> {
    return Number(await this.run(scripts.IMPORT, [JSON.stringify(items)]))
  }

  async backlog(): Promise<number> {
    return Number((await this.client.get(this.key('backlog'))) ?? 0)
  }

  async counts() {
    const [backlog, oldest, letters, byInstance] = await Promise.all([
      this.client.get(this.key('backlog')),
      this.client.zrange(this.key('pend'), 0, 0, 'WITHSCORES'),
      this.client.zcard(this.key('dl')),
      this.client.hgetall(this.key('dlc'))
    ])
    const deadLettersByInstance: Record<string, number> = {}
    for (const [instance, count] of Object.entries(byInstance))
      if (Number(count) > 0) deadLettersByInstance[instance] = Number(count)
    return {
      backlog: Number(backlog ?? 0),
      oldestPendingAt: oldest[1] === undefined ? undefined : Number(oldest[1]),
      deadLetters: letters,
      deadLettersByInstance
    }
  }

  async retriesDue(lane: string, now: number, limit: number): Promise<string[]> {
    // Members are `<generation>|<index>|<job id>`: due time first, then acceptance order.
    const members = await this.client.zrangebyscore(this.key(`retry:${lane}`), '-inf', now, 'LIMIT', 0, limit)
    return members.map((member) => member.slice(member.indexOf('|', member.indexOf('|') + 1) + 1))
  }

  async nextDue(lane: string): Promise<number | undefined> {
    const first = await this.client.zrange(this.key(`due:${lane}`), 0, 0, 'WITHSCORES')
    return first[1] === undefined ? undefined : Number(first[1])
  }

  async addDue(lane: string, jobId: string, at: number): Promise<void> {
    await this.client.zadd(this.key(`due:${lane}`), at, jobId)
  }

  async current(eventId: string): Promise<string | undefined> {
    return (await this.client.hget(this.key('cur'), eventId)) ?? undefined
  }

  record(id: string): Promise<Record<string, string>> {
    return this.client.hgetall(this.key(`ev:${id}`))
  }

  letterKeys(before: string | undefined, count: number): Promise<string[]> {
    return this.client.zrevrangebylex(this.key('dl'), before === undefined ? '+' : `(${before}`, '-', 'LIMIT', 0, count)
  }

  lettersOlderThan(at: number, count: number): Promise<string[]> {
    return this.client.zrangebylex(this.key('dl'), '-', `(${String(at).padStart(15, '0')}|`, 'LIMIT', 0, count)
  }

  oldestLetters(count: number): Promise<string[]> {
    return this.client.zrange(this.key('dl'), 0, count - 1)
  }

  letterCount(): Promise<number> {
    return this.client.zcard(this.key('dl'))
  }

  async letters(ids: readonly string[]): Promise<(Record<string, string> | undefined)[]> {
    const pipeline = this.client.pipeline()
    for (const id of ids) pipeline.hgetall(this.key(`dl:${id}`))
    const replies = (await pipeline.exec()) ?? []
    return replies.map(([error, value]) => {
      const fields = value as Record<string, string> | null
      return error || !fields || fields.m === undefined ? undefined : fields
    })
  }

  doneBefore(at: number, count: number): Promise<string[]> {
    return this.client.zrangebyscore(this.key('done'), '-inf', at, 'LIMIT', 0, count)
  }

  oldestDone(count: number): Promise<string[]> {
    return this.client.zrange(this.key('done'), 0, count - 1)
  }

  doneCount(): Promise<number> {
    return this.client.zcard(this.key('done'))
  }

  pruneDedupe(at: number): Promise<number> {
    return this.client.zremrangebyscore(this.key('dd'), '-inf', at)
  }

  async userRecords(userId: string | undefined, anonymousIds: readonly string[]): Promise<string[]> {
    const keys = [
      ...(userId === undefined ? [] : [this.key(`user:${userId}`)]),
      ...anonymousIds.map((id) => this.key(`anon:${id}`))
    ]
    return keys.length === 0 ? [] : this.client.sunion(...keys)
  }

  lanes(): Promise<string[]> {
    return this.client.smembers(this.key('lanes'))
  }

  targets(): Promise<string[]> {
    return this.client.smembers(this.key('targets'))
  }

  async removeTarget(target: string): Promise<void> {
    await this.client.srem(this.key('targets'), target)
  }

  async saveDeletion(id: string, json: string): Promise<void> {
    await this.client.set(this.key(`del:${id}`), json)
  }

  async deletion(id: string): Promise<string | undefined> {
    return (await this.client.get(this.key(`del:${id}`))) ?? undefined
  }

  async publish(lanes: Iterable<string>): Promise<void> {
    for (const lane of lanes) await this.client.publish(this.key('work'), lane)
  }

  subscribe(listener: (lane: string) => void): void {
    if (this.subscriber) return
    const subscriber = this.client.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null })
    subscriber.on('error', () => undefined)
    subscriber.on('message', (_channel: string, lane: string) => listener(lane))
    void subscriber.subscribe(this.key('work')).catch(() => undefined)
    this.subscriber = subscriber
  }
}
