import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import type { SegmentEvent } from '@segment/actions-core'
import Database, { type Statement } from 'better-sqlite3'
import type { EventResult, TargetRef, TargetResult } from './results'
import { migrate, State } from './sqlite-schema'
import { lockStateDir, prepareStateFile, type StateDirLock } from './state-dir'
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

export interface SqliteStoreOptions {
  readonly stateDir: string
  /**
   * `full` (default): every accept is fsynced before it is answered, so an accepted event survives a power cut, not
   * only a crash. `normal`: the OS writes it out later (survives `kill -9`, not a power cut); faster on slow disks.
   */
  readonly sync?: 'full' | 'normal'
  /** Called when a write fails or the store recovers. */
  readonly onHealthChange?: (health: StoreHealth) => void
}

interface DeliveryRow {
  id: number
  event_seq: number
  instance: string
  integration: string
  action: string
  subscription: string
  state: number
  attempts: number
  available_at: number
  budget_start: number
  http_status: number | null
  detail: string | null
  dead_letter_id: string | null
}

interface DeadLetterRow {
  id: string
  seq: number
  at: number
  status: number | null
  reason: string
  attempts: number
  delivery_id: number
  instance: string
  integration: string
  action: string
  subscription: string
  event_id: string
  body: string
}

interface PendingAccept {
  readonly events: readonly NewEvent[]
  readonly now: number
  readonly dedupeWindowMs: number
  readonly resolve: (accepted: Accepted[]) => void
  readonly reject: (error: unknown) => void
}

const CHUNK = 5000
/** Events purged per statement of a deletion request. */
const PURGE_CHUNK = 500
const SETTLE_RETRY_MS = [100, 250, 500, 1000, 2000, 5000]

function describeError(error: unknown): string {
  const code = (error as { code?: unknown }).code
  // Some paths of better-sqlite3 prefix the class name to the message; the code already says what it is.
  const message = (error instanceof Error ? error.message : String(error)).replace(/^SqliteError: /, '')
  return typeof code === 'string' ? `${code}: ${message}` : message
}

/** In flight counts as queued on a first attempt and as retrying on a later one: the outcome is not known yet. */
function statusOf(state: number, attempts: number): TargetResult['status'] {
  if (state === State.delivered) return 'delivered'
  if (state === State.dead) return 'dead_lettered'
  if (state === State.inFlight) return attempts > 1 ? 'retrying' : 'queued'
  return attempts > 0 ? 'retrying' : 'queued'
}

/**
 * The embedded store: SQLite (better-sqlite3) in WAL mode under `stateDir`, for one process (the directory is locked).
 * Accepts from many requests are committed together (one fsync for all of them: group commit); claims and
 * settlements are not fsynced on their own, since losing one to a power cut only means an attempt is repeated,
 * and the next accept's fsync makes them durable anyway (the WAL is one sequential file).
 */
/** How long a write waits for a lock another connection holds (a backup's checkpoint, say) while the store is healthy. */
const BUSY_WAIT_MS = 200

export class SqliteStore implements DeliveryStore {
  readonly kind = 'sqlite'
  private readonly db: Database.Database
  private readonly lock: StateDirLock
  private readonly sync: 'full' | 'normal'
  private readonly statements: ReturnType<typeof prepareStatements>
  private pendingAccepts: PendingAccept[] = []
  private pendingSettlements: { settlement: Settlement; now: number }[] = []
  private settleTimer: NodeJS.Timeout | undefined
  private settleFailures = 0
  private settleScheduled = false
  private settleWaiters: (() => void)[] = []
  private unsettled = 0
  private readonly deadByInstance = new Map<string, number>()
  private currentHealth: StoreHealth = { ok: true }
  private closed = false

  constructor(private readonly options: SqliteStoreOptions) {
    this.lock = lockStateDir(options.stateDir)
    try {
      const file = prepareStateFile(this.lock.stateDir, 'state.db')
      this.db = new Database(file, { timeout: BUSY_WAIT_MS })
      this.db.pragma('auto_vacuum = INCREMENTAL')
      this.db.pragma('journal_mode = WAL')
      this.sync = options.sync ?? 'full'
      this.db.pragma('synchronous = NORMAL')
      migrate(this.db)
      this.statements = prepareStatements(this.db)
      this.unsettled = (this.statements.countUnsettled.get() as { n: number }).n
      for (const row of this.statements.deadByInstance.all() as { instance: string; n: number }[])
        this.deadByInstance.set(row.instance, row.n)
    } catch (error) {
      this.lock.release()
      throw error
    }
  }

  /** The state directory (absolute) and the database file in it. */
  get files(): { readonly stateDir: string; readonly database: string } {
    return { stateDir: this.lock.stateDir, database: join(this.lock.stateDir, 'state.db') }
  }

  get health(): StoreHealth {
    return this.currentHealth
  }

  get backlog(): number {
    return this.unsettled
  }

  accept(
    events: readonly NewEvent[],
    options: { readonly now: number; readonly dedupeWindowMs: number }
  ): Promise<Accepted[]> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('the store is closed'))
    return new Promise((resolve, reject) => {
      this.pendingAccepts.push({ events, now: options.now, dedupeWindowMs: options.dedupeWindowMs, resolve, reject })
      // Everything accepted in this turn of the event loop is committed together, with one fsync.
      if (this.pendingAccepts.length === 1) setImmediate(() => this.commitAccepts())
    })
  }

  private commitAccepts(): void {
    const batch = this.pendingAccepts
    this.pendingAccepts = []
    if (batch.length === 0) return
    let answers: Accepted[][]
    let added = 0
    try {
      if (this.sync === 'full') this.db.pragma('synchronous = FULL')
      answers = this.db.transaction(() =>
        batch.map((request) => {
          const accepted = request.events.map((event) => this.acceptOne(event, request.now, request.dedupeWindowMs))
          for (const one of accepted) if (!one.duplicate) added += one.result.targets.length
          return accepted
        })
      )()
    } catch (error) {
      this.markUnhealthy(error)
      const failure = new StoreUnavailableError(`the store cannot commit events: ${describeError(error)}`, {
        cause: error
      })
      for (const request of batch) request.reject(failure)
      return
    } finally {
      if (this.sync === 'full' && this.db.open) this.db.pragma('synchronous = NORMAL')
    }
    this.unsettled += added
    this.markHealthy()
    batch.forEach((request, index) => request.resolve(answers[index] ?? []))
  }

  private acceptOne(input: NewEvent, now: number, dedupeWindowMs: number): Accepted {
    const { statements } = this
    const seen = statements.dedupeGet.get(input.eventId) as { event_seq: number; seen_at: number } | undefined
    if (seen && seen.seen_at > now - dedupeWindowMs) {
      const earlier = this.resultForSeq(seen.event_seq)
      return {
        eventId: input.eventId,
        duplicate: true,
        result: {
          ...(earlier ?? { eventId: input.eventId, receivedAt: new Date(input.receivedAt).toISOString(), targets: [] }),
          duplicate: true
        }
      }
    }
    const seq = Number(
      statements.insertEvent.run(input.eventId, JSON.stringify(input.event), input.receivedAt).lastInsertRowid
    )
    statements.dedupeUpsert.run(input.eventId, seq, now)
    const targets: TargetResult[] = input.targets.map((target) => {
      statements.insertDelivery.run(
        seq,
        target.instance,
        target.integration,
        target.action,
        target.subscription,
        State.pending,
        input.receivedAt,
        input.receivedAt
      )
      return { ...target, status: 'queued', attempts: 0 }
    })
    return {
      eventId: input.eventId,
      duplicate: false,
      result: { eventId: input.eventId, receivedAt: new Date(input.receivedAt).toISOString(), targets }
    }
  }

  async claim(instance: string, limit: number, now: number): Promise<Claim[]> {
    if (limit <= 0 || this.closed) return []
    const { statements } = this
    const claimed = this.write(() => {
      const rows = statements.claim.all(instance, now, limit) as DeliveryRow[]
      if (rows.length === 0) return []
      const seqs = [...new Set(rows.map((row) => row.event_seq))]
      const bodies = new Map<number, { event_id: string; body: string }>()
      for (const event of statements.eventsBySeq.all(JSON.stringify(seqs)) as {
        seq: number
        event_id: string
        body: string
      }[])
        bodies.set(event.seq, event)
      const states = new Map<number, Record<string, string>>()
      for (const entry of statements.stateOf.all(JSON.stringify(rows.map((row) => row.id)), now) as {
        delivery_id: number
        key: string
        value: string
      }[])
        states.set(entry.delivery_id, { ...(states.get(entry.delivery_id) ?? {}), [entry.key]: entry.value })
      return rows.map((row) => ({ row, event: bodies.get(row.event_seq), state: states.get(row.id) ?? {} }))
    })
    // Oldest first, as the index yields them; RETURNING does not promise an order.
    claimed.sort((a, b) => a.row.available_at - b.row.available_at || a.row.id - b.row.id)
    const parsed = new Map<number, SegmentEvent>()
    return claimed.map(({ row, event, state }) => {
      let body = parsed.get(row.event_seq)
      if (!body) {
        body = JSON.parse(event?.body ?? '{}') as SegmentEvent
        parsed.set(row.event_seq, body)
      }
      return {
        id: String(row.id),
        eventId: event?.event_id ?? '',
        event: body,
        target: {
          instance: row.instance,
          integration: row.integration,
          action: row.action,
          subscription: row.subscription
        },
        attempt: row.attempts,
        budgetStart: row.budget_start,
        state
      }
    })
  }

  async nextDueAt(instance: string): Promise<number | undefined> {
    const row = this.statements.nextDue.get(instance) as { at: number | null }
    return row.at ?? undefined
  }

  settle(settlements: readonly Settlement[], now: number): void {
    for (const settlement of settlements) this.pendingSettlements.push({ settlement, now })
    this.scheduleSettle(0)
  }

  flushSettlements(): Promise<void> {
    if (this.pendingSettlements.length === 0) return Promise.resolve()
    return new Promise((resolve) => {
      this.settleWaiters.push(resolve)
      this.scheduleSettle(0)
    })
  }

  private scheduleSettle(delay: number): void {
    if (this.settleScheduled || this.closed) return
    this.settleScheduled = true
    const run = () => {
      this.settleScheduled = false
      this.settleTimer = undefined
      this.writeSettlements()
    }
    if (delay === 0) setImmediate(run)
    else this.settleTimer = setTimeout(run, delay)
  }

  private writeSettlements(): void {
    const batch = this.pendingSettlements
    if (batch.length === 0) return this.releaseSettleWaiters()
    let finished = 0
    try {
      this.db.transaction(() => {
        for (const { settlement, now } of batch) if (this.settleOne(settlement, now)) finished += 1
      })()
    } catch (error) {
      // Kept in memory and written when the store can: never turned into a silent drop or another vendor attempt.
      this.markUnhealthy(error)
      const delay = SETTLE_RETRY_MS[Math.min(this.settleFailures, SETTLE_RETRY_MS.length - 1)] ?? 5000
      this.settleFailures += 1
      this.scheduleSettle(delay)
      return
    }
    this.pendingSettlements = this.pendingSettlements.slice(batch.length)
    this.settleFailures = 0
    this.unsettled -= finished
    this.markHealthy()
    if (this.pendingSettlements.length > 0) this.scheduleSettle(0)
    else this.releaseSettleWaiters()
  }

  private releaseSettleWaiters(): void {
    const waiters = this.settleWaiters
    this.settleWaiters = []
    for (const resolve of waiters) resolve()
  }

  /** True when the delivery is finished (delivered or dead-lettered). */
  private settleOne(settlement: Settlement, now: number): boolean {
    const { statements } = this
    const id = Number(settlement.id)
    // A delivery purged by a deletion request while in flight leaves no state behind.
    if (settlement.state?.length && statements.deliveryById.get(id))
      for (const write of settlement.state) statements.setState.run(id, write.key, write.value, write.expiresAt)
    if (settlement.outcome === 'delivered') {
      const detail = settlement.detail === undefined ? null : JSON.stringify(settlement.detail)
      return statements.markDelivered.run(settlement.status ?? null, detail, now, id).changes > 0
    }
    if (settlement.outcome === 'retry') {
      statements.markRetry.run(settlement.at, settlement.status ?? null, settlement.reason, id)
      return false
    }
    const row = statements.deliveryById.get(id) as { instance: string; attempts: number; state: number } | undefined
    if (!row || row.state >= State.delivered) return false
    statements.markDead.run(settlement.status ?? null, settlement.reason, now, id)
    statements.insertDeadLetter.run(randomUUID(), id, now, settlement.status ?? null, settlement.reason, row.attempts)
    this.deadByInstance.set(row.instance, (this.deadByInstance.get(row.instance) ?? 0) + 1)
    return true
  }

  async eventResult(eventId: string): Promise<EventResult | undefined> {
    const event = this.statements.latestEvent.get(eventId) as { seq: number } | undefined
    return event ? this.resultForSeq(event.seq) : undefined
  }

  private resultForSeq(seq: number): EventResult | undefined {
    const event = this.statements.eventBySeq.get(seq) as { event_id: string; received_at: number } | undefined
    if (!event) return undefined
    const rows = this.statements.deliveriesOfEvent.all(seq) as DeliveryRow[]
    return {
      eventId: event.event_id,
      receivedAt: new Date(event.received_at).toISOString(),
      targets: rows.map((row) => {
        const status = statusOf(row.state, row.attempts)
        const detail =
          row.detail === null ? undefined : row.state === State.delivered ? parseJson(row.detail) : row.detail
        return {
          instance: row.instance,
          integration: row.integration,
          action: row.action,
          subscription: row.subscription,
          status,
          attempts: row.attempts,
          ...(row.http_status === null ? {} : { httpStatus: row.http_status }),
          ...(detail === undefined ? {} : { detail }),
          ...(row.state === State.pending && row.attempts > 0
            ? { nextAttemptAt: new Date(row.available_at).toISOString() }
            : {}),
          ...(row.dead_letter_id === null ? {} : { deadLetterId: row.dead_letter_id })
        }
      })
    }
  }

  async deadLetters(query: DeadLetterQuery): Promise<DeadLetterPage> {
    const cursor = query.cursor === undefined ? Number.MAX_SAFE_INTEGER : Number(query.cursor)
    const rows = this.statements.deadLetterPage.all({
      ...filterParameters(query),
      cursor: Number.isFinite(cursor) ? cursor : Number.MAX_SAFE_INTEGER,
      limit: query.limit + 1
    }) as DeadLetterRow[]
    const page = rows.slice(0, query.limit)
    const last = page[page.length - 1]
    return {
      deadLetters: page.map(toDeadLetter),
      ...(rows.length > query.limit && last ? { nextCursor: String(last.seq) } : {})
    }
  }

  async replay(selection: DeadLetterSelection, options: ReplayOptions): Promise<ReplayReport> {
    const { statements } = this
    let replayed = 0
    let notReplayable = 0
    const notFound: string[] = []
    const report = () => ({ replayed, notReplayable, notFound })
    const replayRows = (rows: readonly DeadLetterRow[]) => {
      const chosen = rows.filter((row) => {
        const ok = options.isReplayable({
          instance: row.instance,
          integration: row.integration,
          action: row.action,
          subscription: row.subscription
        })
        if (!ok) notReplayable += 1
        return ok
      })
      if (chosen.length === 0) return
      if (this.sync === 'full') this.db.pragma('synchronous = FULL')
      try {
        this.write(() => {
          for (const row of chosen) {
            statements.deleteDeadLetter.run(row.id)
            statements.requeue.run(options.now, options.now, row.delivery_id)
          }
        })
      } finally {
        if (this.sync === 'full') this.db.pragma('synchronous = NORMAL')
      }
      for (const row of chosen) {
        this.deadByInstance.set(row.instance, Math.max(0, (this.deadByInstance.get(row.instance) ?? 1) - 1))
      }
      this.unsettled += chosen.length
      replayed += chosen.length
      options.onProgress?.(report())
    }
    if ('ids' in selection) {
      for (let start = 0; start < selection.ids.length; start += CHUNK) {
        const ids = selection.ids.slice(start, start + CHUNK)
        const rows = statements.deadLettersByIds.all(JSON.stringify(ids)) as DeadLetterRow[]
        const found = new Set(rows.map((row) => row.id))
        for (const id of ids) if (!found.has(id)) notFound.push(id)
        replayRows(rows)
        await yieldToEventLoop()
      }
      return report()
    }
    // By filter: page through from the newest, skipping letters left in place (not replayable).
    let cursor = Number.MAX_SAFE_INTEGER
    for (;;) {
      const rows = statements.deadLetterPage.all({
        ...filterParameters(selection.filter),
        cursor,
        limit: CHUNK
      }) as DeadLetterRow[]
      if (rows.length === 0) break
      cursor = rows[rows.length - 1]?.seq ?? 0
      replayRows(rows)
      await yieldToEventLoop()
    }
    return report()
  }

  async resume(
    isConfigured: (target: TargetRef) => boolean,
    now: number
  ): Promise<{ resumed: number; orphaned: number }> {
    const { statements } = this
    const resumed = this.write(() => statements.resumeInFlight.run(now).changes)
    let orphaned = 0
    for (const target of statements.unsettledTargets.all() as {
      instance: string
      integration: string
      action: string
      subscription: string
    }[]) {
      if (isConfigured(target)) continue
      const reason = `not delivered: the configuration no longer has instance "${target.instance}" with action "${target.action}" (subscription "${target.subscription}")`
      for (;;) {
        const ids = statements.unsettledOfTarget
          .all(target.instance, target.action, target.subscription, CHUNK)
          .map((row) => (row as { id: number }).id)
        if (ids.length === 0) break
        this.write(() => {
          for (const id of ids) this.settleOne({ id: String(id), outcome: 'dead', status: undefined, reason }, now)
        })
        orphaned += ids.length
      }
    }
    this.unsettled -= orphaned
    return { resumed, orphaned }
  }

  async importDeadLetters(letters: readonly DeadLetter[]): Promise<number> {
    const { statements } = this
    let imported = 0
    this.write(() => {
      for (const letter of letters) {
        if (statements.deadLetterExists.get(letter.id)) continue
        const at = Date.parse(letter.at)
        const seq = Number(statements.insertEvent.run(letter.eventId, JSON.stringify(letter.event), at).lastInsertRowid)
        const delivery = Number(
          statements.insertDelivery.run(
            seq,
            letter.instance,
            letter.integration,
            letter.partnerAction,
            letter.subscription,
            State.dead,
            at,
            at
          ).lastInsertRowid
        )
        statements.importDead.run(letter.attempts, letter.status ?? null, letter.reason, at, delivery)
        statements.insertDeadLetter.run(letter.id, delivery, at, letter.status ?? null, letter.reason, letter.attempts)
        this.deadByInstance.set(letter.instance, (this.deadByInstance.get(letter.instance) ?? 0) + 1)
        imported += 1
      }
    })
    return imported
  }

  getMeta(key: string): string | undefined {
    return (this.statements.metaGet.get(key) as { value: string } | undefined)?.value
  }

  setMeta(key: string, value: string): void {
    this.write(() => this.statements.metaSet.run(key, value))
  }

  async purgeUser(identity: UserIdentity): Promise<PurgeReport & { readonly eventIds: readonly string[] }> {
    if (this.closed) throw new StoreUnavailableError('the store is closed')
    const { statements } = this
    const report = { events: 0, deliveries: 0, deadLetters: 0 }
    const eventIds: string[] = []
    let unsettled = 0
    const deadGone = new Map<string, number>()
    this.db.transaction(() => {
      const rows = statements.eventsOfUser.all({
        userId: identity.userId ?? null,
        anonymousIds: JSON.stringify(identity.anonymousIds)
      }) as { seq: number; event_id: string }[]
      const seqs = rows.map((row) => row.seq)
      for (const row of rows) eventIds.push(row.event_id)
      for (let start = 0; start < seqs.length; start += PURGE_CHUNK) {
        const chunk = JSON.stringify(seqs.slice(start, start + PURGE_CHUNK))
        for (const row of statements.deliveriesOfEvents.all(chunk) as {
          id: number
          state: number
          instance: string
          dead: number
        }[]) {
          report.deliveries += 1
          if (row.state < State.delivered) unsettled += 1
          if (row.dead) deadGone.set(row.instance, (deadGone.get(row.instance) ?? 0) + 1)
        }
        report.deadLetters += statements.purgeDeadLetters.run(chunk).changes
        statements.purgeState.run(chunk)
        statements.purgeDeliveries.run(chunk)
        report.events += statements.purgeEvents.run(chunk).changes
      }
    })()
    this.unsettled -= unsettled
    for (const [instance, gone] of deadGone)
      this.deadByInstance.set(instance, Math.max(0, (this.deadByInstance.get(instance) ?? 0) - gone))
    return { ...report, eventIds }
  }

  async recordDeletion(record: DeletionRecord): Promise<void> {
    if (this.closed) throw new StoreUnavailableError('the store is closed')
    this.statements.insertDeletion.run(record.id, Date.parse(record.at), JSON.stringify(record))
  }

  async deletion(id: string): Promise<DeletionRecord | undefined> {
    const row = this.statements.deletionById.get(id) as { record: string } | undefined
    return row ? (JSON.parse(row.record) as DeletionRecord) : undefined
  }

  async counts(): Promise<StoreCounts> {
    const oldest = this.statements.oldestUnsettled.get() as { at: number | null }
    const byInstance = Object.fromEntries([...this.deadByInstance].filter(([, count]) => count > 0))
    return {
      backlog: this.unsettled,
      oldestPendingAt: oldest.at ?? undefined,
      deadLetters: Object.values(byInstance).reduce((sum, count) => sum + count, 0),
      deadLettersByInstance: byInstance
    }
  }

  async prune(retention: Retention, now: number): Promise<PruneReport> {
    const { statements } = this
    const report = { delivered: 0, deadLetters: 0, dedupeKeys: 0, events: 0 }
    const deleteEventsOf = (seqs: readonly number[]) => {
      if (seqs.length > 0) report.events += statements.deleteOrphanEvents.run(JSON.stringify(seqs)).changes
    }
    // Delivered results: past their age, then the oldest beyond the count.
    for (;;) {
      const seqs = this.write(() =>
        (statements.pruneDelivered.all(now - retention.deliveredMs, CHUNK) as { event_seq: number }[]).map(
          (row) => row.event_seq
        )
      )
      report.delivered += seqs.length
      this.write(() => deleteEventsOf([...new Set(seqs)]))
      if (seqs.length < CHUNK) break
      await yieldToEventLoop()
    }
    const deliveredCount = (statements.countDelivered.get() as { n: number }).n
    for (let excess = deliveredCount - retention.maxDelivered; excess > 0; excess -= CHUNK) {
      const seqs = this.write(() =>
        (statements.pruneOldestDelivered.all(Math.min(excess, CHUNK)) as { event_seq: number }[]).map(
          (row) => row.event_seq
        )
      )
      report.delivered += seqs.length
      this.write(() => deleteEventsOf([...new Set(seqs)]))
      await yieldToEventLoop()
    }
    // Dead letters: past their age, then the oldest beyond the count.
    const dropLetters = (rows: readonly { delivery_id: number; instance: string; event_seq: number }[]) => {
      this.write(() => {
        for (const row of rows) {
          statements.deleteDeadLetterOfDelivery.run(row.delivery_id)
          statements.deleteDelivery.run(row.delivery_id)
          this.deadByInstance.set(row.instance, Math.max(0, (this.deadByInstance.get(row.instance) ?? 1) - 1))
        }
        deleteEventsOf([...new Set(rows.map((row) => row.event_seq))])
      })
      report.deadLetters += rows.length
    }
    for (;;) {
      const rows = statements.oldDeadLetters.all(now - retention.deadLettersMs, CHUNK) as {
        delivery_id: number
        instance: string
        event_seq: number
      }[]
      dropLetters(rows)
      if (rows.length < CHUNK) break
      await yieldToEventLoop()
    }
    const letters = (statements.countDeadLetters.get() as { n: number }).n
    for (let excess = letters - retention.maxDeadLetters; excess > 0; excess -= CHUNK) {
      dropLetters(
        statements.oldestDeadLetters.all(Math.min(excess, CHUNK)) as {
          delivery_id: number
          instance: string
          event_seq: number
        }[]
      )
      await yieldToEventLoop()
    }
    // Dedupe keys past the window, and events that matched no target once their results' age has passed.
    report.dedupeKeys += this.write(() => statements.pruneDedupe.run(now - retention.dedupeWindowMs).changes)
    this.write(() => statements.pruneState.run(now))
    report.events += this.write(() => statements.pruneTargetlessEvents.run(now - retention.deliveredMs).changes)
    this.write(() => this.db.pragma('incremental_vacuum(2000)'))
    return report
  }

  /** Bytes on disk: the database and its write-ahead log. */
  sizeBytes(): number {
    const pages = this.db.pragma('page_count', { simple: true }) as number
    const size = this.db.pragma('page_size', { simple: true }) as number
    return pages * size
  }

  /** An online, consistent copy of the store into `file` (safe while the runtime runs). */
  async backup(file: string): Promise<void> {
    await this.db.backup(file)
  }

  async close(): Promise<void> {
    if (this.closed) return
    if (this.pendingAccepts.length > 0) this.commitAccepts()
    if (this.settleTimer) clearTimeout(this.settleTimer)
    this.settleScheduled = false
    // Last chance for settlements; if the store still cannot write, those deliveries are claimed again next start.
    try {
      this.writeSettlements()
    } catch {
      // writeSettlements records the failure itself.
    }
    this.closed = true
    this.releaseSettleWaiters()
    this.db.close()
    this.lock.release()
  }

  private write<T>(work: () => T): T {
    try {
      const result = this.db.transaction(work)()
      this.markHealthy()
      return result
    } catch (error) {
      this.markUnhealthy(error)
      throw new StoreUnavailableError(`the store cannot write: ${describeError(error)}`, { cause: error })
    }
  }

  private busyWait = BUSY_WAIT_MS

  private setBusyWait(ms: number): void {
    if (this.busyWait === ms || this.closed) return
    this.busyWait = ms
    this.db.pragma(`busy_timeout = ${ms}`)
  }

  private markUnhealthy(error: unknown): void {
    const message = describeError(error)
    // SQLite waits for a lock synchronously, holding the whole event loop: while the store is known to be unable to
    // write, a write fails at once instead (workers retry each second), so HTTP, vendors' answers and timers go on.
    this.setBusyWait(0)
    if (!this.currentHealth.ok && this.currentHealth.error === message) return
    this.currentHealth = { ok: false, error: message, since: this.currentHealth.since ?? new Date().toISOString() }
    this.options.onHealthChange?.(this.currentHealth)
  }

  private markHealthy(): void {
    this.setBusyWait(BUSY_WAIT_MS)
    // Settlements still waiting to be written keep the store degraded, whatever else succeeds meanwhile.
    if (this.currentHealth.ok || (this.pendingSettlements.length > 0 && this.settleFailures > 0)) return
    this.currentHealth = { ok: true }
    this.options.onHealthChange?.(this.currentHealth)
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

function filterParameters(filter: DeadLetterFilter) {
  return {
    instance: filter.instance ?? null,
    action: filter.action ?? null,
    reason:
      filter.reason === undefined ? null : `%${filter.reason.replace(/[\\%_]/g, (character) => `\\${character}`)}%`,
    since: filter.since ?? null,
    until: filter.until ?? null
  }
}

function toDeadLetter(row: DeadLetterRow): DeadLetter {
  return {
    id: row.id,
    at: new Date(row.at).toISOString(),
    instance: row.instance,
    integration: row.integration,
    partnerAction: row.action,
    subscription: row.subscription,
    eventId: row.event_id,
    event: JSON.parse(row.body) as SegmentEvent,
    status: row.status ?? undefined,
    reason: row.reason,
    attempts: row.attempts
  }
}

const DEAD_LETTER_COLUMNS = `dl.id, dl.seq, dl.at, dl.status, dl.reason, dl.attempts, dl.delivery_id,
  d.instance, d.integration, d.action, d.subscription, e.event_id, e.body`

function prepareStatements(db: Database.Database) {
  const prepare = (sql: string): Statement => db.prepare(sql)
  return {
    countUnsettled: prepare(`SELECT COUNT(*) AS n FROM deliveries WHERE state < ${State.delivered}`),
    // A user's events: by user id, or by any of their anonymous ids (numbers compared as text, as SDKs may send them).
    eventsOfUser: prepare(`SELECT seq, event_id FROM events
      WHERE (@userId IS NOT NULL AND CAST(json_extract(body, '$.userId') AS TEXT) = @userId)
         OR CAST(json_extract(body, '$.anonymousId') AS TEXT) IN (SELECT value FROM json_each(@anonymousIds))`),
    deliveriesOfEvents: prepare(`SELECT d.id, d.state, d.instance, (dl.id IS NOT NULL) AS dead FROM deliveries d
      LEFT JOIN dead_letters dl ON dl.delivery_id = d.id WHERE d.event_seq IN (SELECT value FROM json_each(?))`),
    purgeDeadLetters: prepare(`DELETE FROM dead_letters WHERE delivery_id IN
      (SELECT id FROM deliveries WHERE event_seq IN (SELECT value FROM json_each(?)))`),
    purgeState: prepare(`DELETE FROM delivery_state WHERE delivery_id IN
      (SELECT id FROM deliveries WHERE event_seq IN (SELECT value FROM json_each(?)))`),
    purgeDeliveries: prepare('DELETE FROM deliveries WHERE event_seq IN (SELECT value FROM json_each(?))'),
    purgeEvents: prepare('DELETE FROM events WHERE seq IN (SELECT value FROM json_each(?))'),
    insertDeletion: prepare('INSERT INTO deletions (id, at, record) VALUES (?, ?, ?)'),
    deletionById: prepare('SELECT record FROM deletions WHERE id = ?'),
    deadByInstance: prepare(
      `SELECT d.instance, COUNT(*) AS n FROM dead_letters dl JOIN deliveries d ON d.id = dl.delivery_id GROUP BY d.instance`
    ),
    dedupeGet: prepare('SELECT event_seq, seen_at FROM dedupe WHERE event_id = ?'),
    dedupeUpsert: prepare(
      'INSERT INTO dedupe (event_id, event_seq, seen_at) VALUES (?, ?, ?) ON CONFLICT (event_id) DO UPDATE SET event_seq = excluded.event_seq, seen_at = excluded.seen_at'
    ),
    insertEvent: prepare('INSERT INTO events (event_id, body, received_at) VALUES (?, ?, ?)'),
    insertDelivery: prepare(
      'INSERT INTO deliveries (event_seq, instance, integration, action, subscription, state, available_at, budget_start) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'
    ),
    claim: prepare(`UPDATE deliveries SET state = ${State.inFlight}, attempts = attempts + 1
      WHERE id IN (SELECT id FROM deliveries WHERE state = ${State.pending} AND instance = ? AND available_at <= ?
                   ORDER BY available_at, id LIMIT ?)
      RETURNING id, event_seq, instance, integration, action, subscription, attempts, available_at, budget_start`),
    eventsBySeq: prepare('SELECT seq, event_id, body FROM events WHERE seq IN (SELECT value FROM json_each(?))'),
    nextDue: prepare(`SELECT MIN(available_at) AS at FROM deliveries WHERE state = ${State.pending} AND instance = ?`),
    deliveryById: prepare('SELECT instance, attempts, state FROM deliveries WHERE id = ?'),
    markDelivered: prepare(
      `UPDATE deliveries SET state = ${State.delivered}, http_status = ?, detail = ?, settled_at = ? WHERE id = ? AND state < ${State.delivered}`
    ),
    markRetry: prepare(
      `UPDATE deliveries SET state = ${State.pending}, available_at = ?, http_status = ?, detail = ? WHERE id = ? AND state < ${State.delivered}`
    ),
    markDead: prepare(
      `UPDATE deliveries SET state = ${State.dead}, http_status = ?, detail = ?, settled_at = ? WHERE id = ?`
    ),
    importDead: prepare(`UPDATE deliveries SET attempts = ?, http_status = ?, detail = ?, settled_at = ? WHERE id = ?`),
    insertDeadLetter: prepare(
      'INSERT INTO dead_letters (id, delivery_id, at, status, reason, attempts) VALUES (?, ?, ?, ?, ?, ?)'
    ),
    deadLetterExists: prepare('SELECT 1 FROM dead_letters WHERE id = ?'),
    latestEvent: prepare('SELECT seq FROM events WHERE event_id = ? ORDER BY seq DESC LIMIT 1'),
    eventBySeq: prepare('SELECT event_id, received_at FROM events WHERE seq = ?'),
    deliveriesOfEvent: prepare(
      `SELECT d.*, dl.id AS dead_letter_id FROM deliveries d LEFT JOIN dead_letters dl ON dl.delivery_id = d.id WHERE d.event_seq = ? ORDER BY d.id`
    ),
    deadLetterPage: prepare(`SELECT ${DEAD_LETTER_COLUMNS}
      FROM dead_letters dl JOIN deliveries d ON d.id = dl.delivery_id JOIN events e ON e.seq = d.event_seq
      WHERE dl.seq < @cursor
        AND (@instance IS NULL OR d.instance = @instance)
        AND (@action IS NULL OR d.action = @action)
        AND (@reason IS NULL OR dl.reason LIKE @reason ESCAPE '\\')
        AND (@since IS NULL OR dl.at >= @since)
        AND (@until IS NULL OR dl.at < @until)
      ORDER BY dl.seq DESC LIMIT @limit`),
    deadLettersByIds: prepare(`SELECT ${DEAD_LETTER_COLUMNS}
      FROM dead_letters dl JOIN deliveries d ON d.id = dl.delivery_id JOIN events e ON e.seq = d.event_seq
      WHERE dl.id IN (SELECT value FROM json_each(?))`),
    deleteDeadLetter: prepare('DELETE FROM dead_letters WHERE id = ?'),
    requeue: prepare(
      `UPDATE deliveries SET state = ${State.pending}, attempts = 0, available_at = ?, budget_start = ?, http_status = NULL, detail = NULL, settled_at = NULL WHERE id = ?`
    ),
    resumeInFlight: prepare(
      `UPDATE deliveries SET state = ${State.pending}, available_at = ? WHERE state = ${State.inFlight}`
    ),
    unsettledTargets: prepare(
      `SELECT DISTINCT instance, integration, action, subscription FROM deliveries WHERE state < ${State.delivered}`
    ),
    unsettledOfTarget: prepare(
      `SELECT id FROM deliveries WHERE state < ${State.delivered} AND instance = ? AND action = ? AND subscription = ? LIMIT ?`
    ),
    metaGet: prepare('SELECT value FROM meta WHERE key = ?'),
    metaSet: prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'
    ),
    oldestUnsettled: prepare(`SELECT MIN(budget_start) AS at FROM deliveries WHERE state < ${State.delivered}`),
    pruneDelivered: prepare(`DELETE FROM deliveries WHERE id IN (
      SELECT id FROM deliveries WHERE state = ${State.delivered} AND settled_at < ? LIMIT ?) RETURNING event_seq`),
    countDelivered: prepare(`SELECT COUNT(*) AS n FROM deliveries WHERE state = ${State.delivered}`),
    pruneOldestDelivered: prepare(`DELETE FROM deliveries WHERE id IN (
      SELECT id FROM deliveries WHERE state = ${State.delivered} ORDER BY settled_at LIMIT ?) RETURNING event_seq`),
    deleteOrphanEvents: prepare(`DELETE FROM events WHERE seq IN (SELECT value FROM json_each(?))
      AND NOT EXISTS (SELECT 1 FROM deliveries WHERE event_seq = events.seq)
      AND NOT EXISTS (SELECT 1 FROM dedupe WHERE event_seq = events.seq)`),
    oldDeadLetters: prepare(`SELECT dl.delivery_id, d.instance, d.event_seq FROM dead_letters dl
      JOIN deliveries d ON d.id = dl.delivery_id WHERE dl.at < ? ORDER BY dl.at LIMIT ?`),
    countDeadLetters: prepare('SELECT COUNT(*) AS n FROM dead_letters'),
    oldestDeadLetters: prepare(`SELECT dl.delivery_id, d.instance, d.event_seq FROM dead_letters dl
      JOIN deliveries d ON d.id = dl.delivery_id ORDER BY dl.seq LIMIT ?`),
    deleteDeadLetterOfDelivery: prepare('DELETE FROM dead_letters WHERE delivery_id = ?'),
    deleteDelivery: prepare('DELETE FROM deliveries WHERE id = ?'),
    pruneDedupe: prepare('DELETE FROM dedupe WHERE seen_at < ?'),
    stateOf: prepare(
      'SELECT delivery_id, key, value FROM delivery_state WHERE delivery_id IN (SELECT value FROM json_each(?)) AND expires_at > ?'
    ),
    setState: prepare(
      'INSERT INTO delivery_state (delivery_id, key, value, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (delivery_id, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at'
    ),
    pruneState: prepare(
      'DELETE FROM delivery_state WHERE expires_at < ? OR delivery_id NOT IN (SELECT id FROM deliveries)'
    ),
    pruneTargetlessEvents: prepare(`DELETE FROM events WHERE seq IN (
      SELECT seq FROM events WHERE received_at < ?
        AND NOT EXISTS (SELECT 1 FROM deliveries WHERE event_seq = events.seq)
        AND NOT EXISTS (SELECT 1 FROM dedupe WHERE event_seq = events.seq)
      LIMIT 10000)`)
  }
}
