import type { Queue, Worker } from 'bullmq'
import type { StoreHealth } from './store'

/**
 * What a BullMQ-backed store keeps beside BullMQ's jobs, on the same server: events with their results per target,
 * the dedupe window, dead letters, per-delivery state, the due index, counters and deletion records. `BullMqStore`
 * (`bullmq-store.ts`) holds the delivery logic once; each backend writes these records atomically its own way (Redis
 * scripts in `redis-records.ts`, PostgreSQL transactions in `postgres-records.ts`), with the same meaning:
 *
 * - a record is an event's generation (`<event id>|<g>`): state 0 while the accepting process adds the jobs, 1 once
 *   committed; per target a result (`StoredResult`) and a detail (JSON text);
 * - `begin` opens records (or answers duplicates), `commit` makes them count (backlog, due, dedupe, user index);
 * - `claim` marks deliveries in flight, `settle` writes outcomes, `replay` makes dead letters due again; each skips a
 *   record that is gone, a result already final, or a job that is no longer the delivery's.
 */
export interface Records {
  readonly kind: 'redis' | 'postgres'
  /** Where the health listener learns that the server became unreachable or came back. */
  onHealth(listener: (health: StoreHealth) => void): void
  connect(timeoutMs: number): Promise<void>
  /** Refuses (ConfigurationMismatchError) while processes with another configuration hold the namespace. */
  holdConfiguration(hash: string): Promise<void>
  close(): Promise<void>

  /** BullMQ's queue and (manual) worker of one lane, on this server. */
  newQueue<T>(name: string): Queue<T>
  newWorker<T>(name: string, options: WorkerTuning): Worker<T>
  /** The lock token an active job holds (null when it has none). */
  lockOf(queueName: string, jobId: string): Promise<string | null>

  begin(items: readonly BeginItem[], now: number, windowMs: number): Promise<BeginReply[]>
  commit(items: readonly CommitItem[], now: number): Promise<number>
  claim(items: readonly ClaimItem[], now: number): Promise<ClaimReply[]>
  /** Per item: 0 (nothing written), 1, or a new dead letter's id. */
  settle(items: readonly SettleItem[], now: number): Promise<(0 | 1 | string)[]>
  /** Per letter: 1 replayed, 0 gone. */
  replay(items: readonly { readonly lt: string; readonly j: string }[], now: number): Promise<number[]>
  purge(records: readonly string[]): Promise<{ events: number; deliveries: number; deadLetters: number }>
  dropLetters(ids: readonly string[]): Promise<{ letters: number; events: number }>
  dropRecords(records: readonly string[]): Promise<number>
  importLetters(items: readonly ImportItem[]): Promise<number>

  backlog(): Promise<number>
  counts(): Promise<{
    backlog: number
    oldestPendingAt: number | undefined
    deadLetters: number
    deadLettersByInstance: Record<string, number>
  }>
  /** Jobs of this lane waiting for a retry that is due by `now`. */
  retriesDue(lane: string, now: number, limit: number): Promise<string[]>
  nextDue(lane: string): Promise<number | undefined>
  addDue(lane: string, jobId: string, at: number): Promise<void>
  /** The latest generation of an event id. */
  current(eventId: string): Promise<string | undefined>
  /** A record's fields: `t` (targets JSON), `rc` (received at), `r:<i>` (StoredResult JSON), `d:<i>` (detail JSON). */
  record(id: string): Promise<Readonly<Record<string, string>>>
  /** Dead letters' sort keys (`<at, 15 digits>|<id>`), newest first, strictly before `before` (or from the newest). */
  letterKeys(before: string | undefined, count: number): Promise<string[]>
  /** Sort keys of letters dead-lettered before `at`, oldest first. */
  lettersOlderThan(at: number, count: number): Promise<string[]>
  oldestLetters(count: number): Promise<string[]>
  letterCount(): Promise<number>
  /** Letters' fields: `m` (sort key), `at`, `id`, `g`, `i`, `l`, `in`, `tg`, `hs`, `rs`, `att`, `e`. */
  letters(ids: readonly string[]): Promise<(Readonly<Record<string, string>> | undefined)[]>
  /** Records with nothing pending and no dead letter, finished before `at`, oldest first. */
  doneBefore(at: number, count: number): Promise<string[]>
  oldestDone(count: number): Promise<string[]>
  doneCount(): Promise<number>
  /** Forgets dedupe keys accepted before `at`; returns how many. */
  pruneDedupe(at: number): Promise<number>
  userRecords(userId: string | undefined, anonymousIds: readonly string[]): Promise<string[]>
  lanes(): Promise<string[]>
  targets(): Promise<string[]>
  removeTarget(target: string): Promise<void>
  saveDeletion(id: string, json: string): Promise<void>
  deletion(id: string): Promise<string | undefined>
  /** Tells every process that these lanes have new work; `subscribe` hears it. */
  publish(lanes: Iterable<string>): Promise<void>
  subscribe(listener: (lane: string) => void): void
}

export interface WorkerTuning {
  readonly lockDuration: number
  readonly stalledInterval: number
  readonly maxStalledCount: number
  readonly limiter?: { readonly max: number; readonly duration: number }
}

export interface BeginItem {
  readonly id: string
  /** The event's JSON. */
  readonly e: string
  readonly rc: number
  /** The targets' JSON. */
  readonly t: string
  /** Per target: the stable part of its job id, and its lane. */
  readonly h: readonly string[]
  readonly l: readonly string[]
  readonly u?: string
  readonly an?: string
}

export interface BeginReply {
  readonly verdict: 'new' | 'dup'
  readonly generation: string
}

export interface CommitItem {
  readonly id: string
  readonly g: string
  /** The targets' keys (JSON of each TargetRef), for the configured-targets check at start. */
  readonly tk: readonly string[]
}

export interface ClaimItem {
  readonly id: string
  readonly g: string
  readonly i: number
  readonly j: string
  readonly l: string
  readonly lt?: string
}

export type ClaimReply =
  | {
      readonly kind: 'ok'
      readonly event: string
      readonly targets: string
      readonly attempt: number
      /** State entries: key and `{"v", "x"}` JSON. */
      readonly state: readonly (readonly [string, string])[]
    }
  | { readonly kind: 'stale' | 'final' }

export interface SettleItem {
  readonly id: string
  readonly g: string
  readonly i: number
  readonly j: string
  readonly o: 'delivered' | 'retry' | 'dead'
  readonly hs?: number
  readonly dt?: string
  readonly at?: number
  readonly rs?: string
  readonly tin?: string
  readonly tg?: string
  readonly st?: readonly { readonly k: string; readonly v: string }[]
}

export interface ImportItem {
  readonly lid: string
  readonly id: string
  readonly at: number
  readonly rc: number
  readonly e: string
  readonly t: string
  readonly h: string
  readonly l: string
  readonly tin: string
  readonly tg: string
  readonly rs: string
  readonly dt: string
  readonly att: number
  readonly hs?: number
  readonly u?: string
  readonly an?: string
}

/** A target's result as stored: status (`p` pending, `f` in flight, `d` delivered, `x` dead-lettered) and more. */
export interface StoredResult {
  readonly st: 'p' | 'f' | 'd' | 'x'
  readonly at: number
  readonly hs?: number
  readonly na?: number
  readonly dl?: string
  readonly j: string
  readonly l: string
}
