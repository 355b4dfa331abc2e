import type { SegmentEvent } from '@segment/actions-core'
import type { EventResult, TargetRef } from './results'

/**
 * The delivery store: where accepted events wait until every target has them. Its contract is behaviour, not
 * storage: whatever `accept` resolved survives a crash; every accepted delivery is handed out by `claim` until it is
 * settled delivered or dead (at least once: a claim that is never settled comes back after a restart); a delivery
 * settled for retry is not handed out before its time; a repeated event id within the dedupe window is answered with
 * the first one's results and delivered once; dead letters are listed and replayed durably. `store-contract.ts`
 * holds the test suite every backend runs unchanged.
 */
export interface DeliveryStore {
  /** What `/health` reports, e.g. `sqlite`. */
  readonly kind: string
  /** False while writes fail; the reason is logged and shown by `/health`. */
  readonly health: StoreHealth
  /** Deliveries accepted and not yet delivered or dead-lettered (in flight included): the backlog. */
  readonly backlog: number

  /**
   * Commits events with their deliveries, all or nothing. Resolves once durable. An event whose id was accepted
   * within `dedupeWindowMs` is not stored again: its answer carries the earlier results and `duplicate: true`.
   */
  accept(
    events: readonly NewEvent[],
    options: { readonly now: number; readonly dedupeWindowMs: number }
  ): Promise<Accepted[]>

  /** Up to `limit` deliveries of one instance that are due at `now`, oldest first; each counts as an attempt. */
  claim(instance: string, limit: number, now: number): Promise<Claim[]>

  /** When the next delivery of this instance becomes due (undefined: none is waiting). */
  nextDueAt(instance: string): Promise<number | undefined>

  /** Records attempts' outcomes. Settlements that cannot be written yet are kept and written when the store can. */
  settle(settlements: readonly Settlement[], now: number): void

  /** Resolves once every settlement given so far is written (shutdown, tests). */
  flushSettlements(): Promise<void>

  eventResult(eventId: string): Promise<EventResult | undefined>

  deadLetters(query: DeadLetterQuery): Promise<DeadLetterPage>

  /**
   * Makes dead letters deliverable again, each in the same commit that removes it from the list, with a fresh retry
   * budget from `now`. Letters whose target `isReplayable` refuses stay in the list.
   */
  replay(selection: DeadLetterSelection, options: ReplayOptions): Promise<ReplayReport>

  /**
   * At start, before the first claim: deliveries a stopped or crashed process left in flight are due again at once;
   * pending deliveries whose target `isConfigured` refuses are dead-lettered with that reason. Never drops one.
   */
  resume(isConfigured: (target: TargetRef) => boolean, now: number): Promise<{ resumed: number; orphaned: number }>

  /** Adds dead letters recorded elsewhere (the former NDJSON file), keeping their ids; known ids are skipped. */
  importDeadLetters(letters: readonly DeadLetter[]): Promise<number>

  /** Dead letters per instance, and when the oldest pending delivery was accepted. */
  counts(): Promise<StoreCounts>

  /**
   * A user's deletion request: every event whose `userId` or `anonymousId` is one of theirs goes, with its deliveries
   * (those not made yet are never made), results, per-delivery state and dead letters, in one commit. Message ids stay
   * in the dedupe window (they hold nothing of the user), so a client re-sending a deleted message is not delivered.
   */
  purgeUser(identity: UserIdentity): Promise<PurgeReport & { readonly eventIds: readonly string[] }>

  /** Keeps the outcome of a deletion request (no user id in it), to be read back by its id. */
  recordDeletion(record: DeletionRecord): Promise<void>

  deletion(id: string): Promise<DeletionRecord | undefined>

  /** Deletes what retention allows: delivered results, dedupe keys and dead letters past their age or count. */
  prune(retention: Retention, now: number): Promise<PruneReport>

  close(): Promise<void>

  /**
   * A store shared by processes calls `listener` when another process commits deliveries for a lane, so this
   * process's workers claim them at once (the embedded store has no other process).
   */
  onNewWork?(listener: (lane: string) => void): void
}

export interface StoreHealth {
  readonly ok: boolean
  /** The last write error while not ok. */
  readonly error?: string
  readonly since?: string
}

export interface NewEvent {
  readonly eventId: string
  readonly event: SegmentEvent
  readonly receivedAt: number
  readonly targets: readonly TargetRef[]
}

export interface Accepted {
  readonly eventId: string
  readonly duplicate: boolean
  readonly result: EventResult
}

export interface Claim {
  /** The delivery's id in the store. */
  readonly id: string
  readonly eventId: string
  readonly event: SegmentEvent
  readonly target: TargetRef
  /** This attempt's number, from 1. */
  readonly attempt: number
  /** When the retry budget started: acceptance, or the replay that made the delivery due again. */
  readonly budgetStart: number
  /** What earlier attempts of this delivery left (actions-core's `stateContext`), unexpired. */
  readonly state: Readonly<Record<string, string>>
}

/** A value an attempt leaves for the next attempts of the same delivery, until `expiresAt`. */
export interface StateWrite {
  readonly key: string
  readonly value: string
  readonly expiresAt: number
}

export type Settlement = (
  | { readonly id: string; readonly outcome: 'delivered'; readonly status?: number; readonly detail: unknown }
  | {
      readonly id: string
      readonly outcome: 'retry'
      readonly at: number
      readonly status: number | undefined
      readonly reason: string
    }
  | { readonly id: string; readonly outcome: 'dead'; readonly status: number | undefined; readonly reason: string }
) & {
  /** State the attempt left for later attempts, written with the settlement. */
  readonly state?: readonly StateWrite[]
}

export interface DeadLetter {
  readonly id: string
  readonly at: string
  readonly instance: string
  readonly integration: string
  readonly partnerAction: string
  readonly subscription: string
  readonly eventId: string
  readonly event: SegmentEvent
  readonly status: number | undefined
  readonly reason: string
  readonly attempts: number
}

export interface DeadLetterFilter {
  readonly instance?: string
  readonly action?: string
  /** A part of the reason, case-insensitive. */
  readonly reason?: string
  /** Dead-lettered at or after (ms). */
  readonly since?: number
  /** Dead-lettered before (ms). */
  readonly until?: number
}

export interface DeadLetterQuery extends DeadLetterFilter {
  readonly limit: number
  /** From a previous page's `nextCursor`. */
  readonly cursor?: string
}

export interface DeadLetterPage {
  /** Newest first. */
  readonly deadLetters: DeadLetter[]
  readonly nextCursor?: string
}

export type DeadLetterSelection = { readonly ids: readonly string[] } | { readonly filter: DeadLetterFilter }

export interface ReplayOptions {
  readonly now: number
  readonly isReplayable: (target: TargetRef) => boolean
  /** Called after each committed chunk with the running totals. */
  readonly onProgress?: (report: ReplayReport) => void
}

export interface ReplayReport {
  /** Letters whose delivery is due again (committed). */
  readonly replayed: number
  /** Letters left in the list because their target is no longer configured. */
  readonly notReplayable: number
  /** Requested ids that are not dead letters (unknown, or replayed already). */
  readonly notFound: readonly string[]
}

export interface StoreCounts {
  readonly backlog: number
  readonly oldestPendingAt: number | undefined
  readonly deadLetters: number
  readonly deadLettersByInstance: Readonly<Record<string, number>>
}

/** How long and how many of each kind of record are kept. */
export interface Retention {
  readonly deliveredMs: number
  readonly maxDelivered: number
  readonly deadLettersMs: number
  readonly maxDeadLetters: number
  readonly dedupeWindowMs: number
}

export interface PruneReport {
  readonly delivered: number
  readonly deadLetters: number
  readonly dedupeKeys: number
  readonly events: number
}

/** A write the store could not make (disk full, locked, I/O error): the request is refused, never half-done. */
export class StoreUnavailableError extends Error {
  readonly status = 503
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'StoreUnavailableError'
  }
}

/** Whose data a deletion request is for: a user id, anonymous ids, or both. */
export interface UserIdentity {
  readonly userId?: string
  readonly anonymousIds: readonly string[]
}

export interface PurgeReport {
  readonly events: number
  readonly deliveries: number
  readonly deadLetters: number
}

/** What a deletion request did, per destination instance and in the runtime's own store. */
export interface DeletionRecord {
  readonly id: string
  readonly at: string
  /** SHA-256 of the user id (the id itself is not kept), to match a request to a later audit. */
  readonly userIdSha256?: string
  readonly anonymousIds: number
  readonly instances: readonly DeletionOutcome[]
  readonly purged: PurgeReport
}

export interface DeletionOutcome {
  readonly instance: string
  /** `deleted`: the destination's `onDelete` succeeded; `not_supported`: it has none; `failed`: it threw. */
  readonly status: 'deleted' | 'not_supported' | 'failed'
  readonly error?: { readonly message: string; readonly status?: number }
}
