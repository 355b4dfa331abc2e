import { afterEach, describe, expect, it } from '@jest/globals'
import type { SegmentEvent } from '@segment/actions-core'
import type { AttemptOutcome } from '../delivery/retry-policy'
import { Workers } from '../delivery/workers'
import type { Logger } from '../logger'
import type { Lane, Target } from '../targets'
import type { TargetRef } from './results'
import type { Claim, DeliveryStore, NewEvent, Retention } from './store'

/**
 * A backend under test. `open` gives a fresh, empty store; `reopen` ends the current process's hold on it as a crash
 * would (nothing settled is kept in memory; claims left unsettled) and opens the same state again.
 */
export interface StoreHarness {
  open(): Promise<DeliveryStore>
  reopen(): Promise<DeliveryStore>
  /** Releases everything (after each test). */
  dispose(): Promise<void>
}

const WINDOW = 24 * 60 * 60 * 1000
const T0 = Date.UTC(2026, 0, 1)

const insider: TargetRef = { instance: 'insider', integration: 'insider', action: 'trackEvent', subscription: 'Track' }
const moengage: TargetRef = {
  instance: 'moengage',
  integration: 'moengage',
  action: 'trackEvent',
  subscription: 'Track'
}

function event(id: string, extra: Record<string, unknown> = {}): SegmentEvent {
  return { type: 'track', event: 'Contract Test', userId: 'u-1', messageId: id, properties: { id, ...extra } }
}

function newEvent(id: string, receivedAt: number, targets: readonly TargetRef[] = [insider, moengage]): NewEvent {
  return { eventId: id, event: event(id), receivedAt, targets }
}

const quietLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined
}

const retention = (overrides: Partial<Retention> = {}): Retention => ({
  deliveredMs: 60_000,
  maxDelivered: 1_000_000,
  deadLettersMs: 600_000,
  maxDeadLetters: 1_000_000,
  dedupeWindowMs: WINDOW,
  ...overrides
})

/**
 * The store contract: what every delivery store must do, whatever it is built on. Each backend runs this suite
 * unchanged (`describeStoreContract('sqlite', harness)`).
 */
export function describeStoreContract(name: string, makeHarness: () => StoreHarness): void {
  describe(`the delivery store contract: ${name}`, () => {
    let harness: StoreHarness
    let store: DeliveryStore

    const open = async () => {
      harness = makeHarness()
      store = await harness.open()
      return store
    }

    afterEach(async () => {
      await harness.dispose()
    })

    it('accept commits each event with one queued delivery per target, and claim hands each out once, oldest first', async () => {
      await open()
      const accepted = await store.accept([newEvent('e-1', T0), newEvent('e-2', T0 + 1)], {
        now: T0 + 1,
        dedupeWindowMs: WINDOW
      })
      expect(accepted.map((answer) => [answer.eventId, answer.duplicate])).toStrictEqual([
        ['e-1', false],
        ['e-2', false]
      ])
      expect(accepted[0]?.result.targets).toStrictEqual([
        { ...insider, status: 'queued', attempts: 0 },
        { ...moengage, status: 'queued', attempts: 0 }
      ])
      expect(store.backlog).toBe(4)
      const claims = await store.claim('insider', 10, T0 + 2)
      expect(claims.map((claim) => [claim.eventId, claim.attempt, claim.target])).toStrictEqual([
        ['e-1', 1, insider],
        ['e-2', 1, insider]
      ])
      expect(claims[0]?.event).toStrictEqual(event('e-1'))
      expect(await store.claim('insider', 10, T0 + 3)).toStrictEqual([])
      expect((await store.claim('moengage', 1, T0 + 3)).map((claim) => claim.eventId)).toStrictEqual(['e-1'])
      expect(await store.nextDueAt('moengage')).toBe(T0 + 1)
    })

    it('records delivered, retry (not handed out before its time) and dead outcomes in the results', async () => {
      await open()
      await store.accept([newEvent('e-1', T0)], { now: T0, dedupeWindowMs: WINDOW })
      const [toInsider] = await store.claim('insider', 1, T0)
      const [toMoengage] = await store.claim('moengage', 1, T0)
      store.settle(
        [
          { id: toInsider?.id ?? '', outcome: 'delivered', status: 200, detail: { status: 200 } },
          {
            id: toMoengage?.id ?? '',
            outcome: 'retry',
            at: T0 + 5_000,
            status: 503,
            reason: 'MoEngage answered HTTP 503'
          }
        ],
        T0 + 10
      )
      await store.flushSettlements()
      expect(store.backlog).toBe(1)
      expect((await store.eventResult('e-1'))?.targets).toStrictEqual([
        { ...insider, status: 'delivered', attempts: 1, httpStatus: 200, detail: { status: 200 } },
        {
          ...moengage,
          status: 'retrying',
          attempts: 1,
          httpStatus: 503,
          detail: 'MoEngage answered HTTP 503',
          nextAttemptAt: new Date(T0 + 5_000).toISOString()
        }
      ])
      expect(await store.claim('moengage', 1, T0 + 4_999)).toStrictEqual([])
      expect(await store.nextDueAt('moengage')).toBe(T0 + 5_000)
      const [again] = await store.claim('moengage', 1, T0 + 5_000)
      expect(again?.attempt).toBe(2)
      expect(again?.budgetStart).toBe(T0)
      store.settle(
        [{ id: again?.id ?? '', outcome: 'dead', status: 400, reason: 'MoEngage rejected the request (HTTP 400)' }],
        T0 + 6_000
      )
      await store.flushSettlements()
      const result = await store.eventResult('e-1')
      const dead = result?.targets[1]
      expect(dead).toMatchObject({
        ...moengage,
        status: 'dead_lettered',
        attempts: 2,
        httpStatus: 400,
        detail: 'MoEngage rejected the request (HTTP 400)'
      })
      expect(dead?.deadLetterId).toEqual(expect.any(String))
      expect(store.backlog).toBe(0)
      expect(await store.eventResult('unknown')).toBeUndefined()
    })

    it('lists dead letters newest first, page by page, filtered by instance, action, reason and time', async () => {
      await open()
      const ids = Array.from({ length: 5 }, (_, index) => `d-${index}`)
      await store.accept(
        ids.map((id, index) => newEvent(id, T0 + index)),
        { now: T0, dedupeWindowMs: WINDOW }
      )
      for (const [index, lane] of ['insider', 'moengage'].entries()) {
        const claims = await store.claim(lane, 10, T0 + 10)
        store.settle(
          claims.map((claim, position) => ({
            id: claim.id,
            outcome: 'dead' as const,
            status: 400 + index,
            reason: `${lane} refused ${claim.eventId}${position === 0 ? ' (first)' : ''}`
          })),
          T0 + 100 + index * 100
        )
        await store.flushSettlements()
      }
      const first = await store.deadLetters({ limit: 4 })
      expect(first.deadLetters.map((letter) => `${letter.instance}:${letter.eventId}`)).toStrictEqual([
        'moengage:d-4',
        'moengage:d-3',
        'moengage:d-2',
        'moengage:d-1'
      ])
      expect(first.deadLetters[0]).toMatchObject({
        instance: 'moengage',
        integration: 'moengage',
        partnerAction: 'trackEvent',
        subscription: 'Track',
        eventId: 'd-4',
        event: event('d-4'),
        status: 401,
        reason: 'moengage refused d-4',
        attempts: 1,
        at: new Date(T0 + 200).toISOString()
      })
      expect(first.nextCursor).toEqual(expect.any(String))
      const all: string[] = first.deadLetters.map((letter) => letter.id)
      let cursor = first.nextCursor
      while (cursor !== undefined) {
        const page = await store.deadLetters({ limit: 4, cursor })
        all.push(...page.deadLetters.map((letter) => letter.id))
        cursor = page.nextCursor
      }
      expect(new Set(all).size).toBe(10)
      expect((await store.deadLetters({ limit: 100, instance: 'insider' })).deadLetters).toHaveLength(5)
      expect((await store.deadLetters({ limit: 100, action: 'identifyUser' })).deadLetters).toHaveLength(0)
      expect(
        (await store.deadLetters({ limit: 100, reason: 'REFUSED D-0 (FIRST' })).deadLetters.map(
          (letter) => letter.instance
        )
      ).toStrictEqual(['moengage', 'insider'])
      expect((await store.deadLetters({ limit: 100, since: T0 + 150 })).deadLetters).toHaveLength(5)
      expect((await store.deadLetters({ limit: 100, until: T0 + 150 })).deadLetters).toHaveLength(5)
      expect(await store.counts()).toMatchObject({
        backlog: 0,
        deadLetters: 10,
        deadLettersByInstance: { insider: 5, moengage: 5 }
      })
    })

    it('replays dead letters durably: out of the list and due again with a fresh budget, in the same commit', async () => {
      await open()
      await store.accept([newEvent('r-1', T0), newEvent('r-2', T0)], { now: T0, dedupeWindowMs: WINDOW })
      for (const lane of ['insider', 'moengage']) {
        const claims = await store.claim(lane, 10, T0)
        store.settle(
          claims.map((claim) => ({ id: claim.id, outcome: 'dead' as const, status: 400, reason: 'refused' })),
          T0 + 1
        )
      }
      await store.flushSettlements()
      const letters = (await store.deadLetters({ limit: 10 })).deadLetters
      const insiderLetters = letters.filter((letter) => letter.instance === 'insider').map((letter) => letter.id)
      const report = await store.replay(
        { ids: [...insiderLetters, 'no-such-letter'] },
        { now: T0 + 60_000, isReplayable: () => true }
      )
      expect(report).toStrictEqual({ replayed: 2, notReplayable: 0, notFound: ['no-such-letter'] })
      // Replay by filter, where the target is gone: the letters stay where they are.
      expect(
        await store.replay({ filter: { instance: 'moengage' } }, { now: T0 + 60_000, isReplayable: () => false })
      ).toStrictEqual({ replayed: 0, notReplayable: 2, notFound: [] })
      // A crash right after the replay loses nothing: the letters are gone and their deliveries are due.
      store = await harness.reopen()
      await store.resume(() => true, T0 + 60_001)
      expect((await store.deadLetters({ limit: 10 })).deadLetters.map((letter) => letter.instance)).toStrictEqual([
        'moengage',
        'moengage'
      ])
      const claims = await store.claim('insider', 10, T0 + 60_001)
      expect(claims.map((claim) => [claim.eventId, claim.attempt, claim.budgetStart]).sort()).toStrictEqual([
        ['r-1', 1, T0 + 60_000],
        ['r-2', 1, T0 + 60_000]
      ])
      expect(store.backlog).toBe(2)
      // Being sent for the first time since the replay: queued, with its attempt under way.
      expect((await store.eventResult('r-1'))?.targets[0]).toStrictEqual({ ...insider, status: 'queued', attempts: 1 })
    })

    it('keeps what an attempt leaves (stateContext) for the next attempts of that delivery only, across a restart', async () => {
      await open()
      await store.accept([newEvent('s-1', T0), newEvent('s-2', T0)], { now: T0, dedupeWindowMs: WINDOW })
      const [first, other] = await store.claim('insider', 10, T0)
      expect(first?.state).toStrictEqual({})
      store.settle(
        [
          {
            id: first?.id ?? '',
            outcome: 'retry',
            at: T0 + 10,
            status: 503,
            reason: 'one of two workflows failed',
            state: [
              { key: 'tray-delivered:https://a.example/', value: 'yes', expiresAt: T0 + 60_000 },
              { key: 'expires-soon', value: 'x', expiresAt: T0 + 5 }
            ]
          },
          { id: other?.id ?? '', outcome: 'retry', at: T0 + 10, status: 503, reason: 'down' }
        ],
        T0 + 1
      )
      await store.flushSettlements()
      store = await harness.reopen()
      await store.resume(() => true, T0 + 10)
      const again = await store.claim('insider', 10, T0 + 10)
      expect(again.map((claim) => [claim.eventId, claim.state])).toStrictEqual([
        ['s-1', { 'tray-delivered:https://a.example/': 'yes' }],
        ['s-2', {}]
      ])
    })

    it('deduplicates an event id within the window, and accepts it again after', async () => {
      await open()
      const [first] = await store.accept([newEvent('same', T0)], { now: T0, dedupeWindowMs: WINDOW })
      const [again, other] = await store.accept([newEvent('same', T0 + 1000), newEvent('other', T0 + 1000)], {
        now: T0 + 1000,
        dedupeWindowMs: WINDOW
      })
      expect(first?.duplicate).toBe(false)
      expect(again).toMatchObject({ eventId: 'same', duplicate: true, result: { eventId: 'same', duplicate: true } })
      expect(again?.result.targets).toHaveLength(2)
      expect(other?.duplicate).toBe(false)
      expect(store.backlog).toBe(4)
      expect((await store.claim('insider', 10, T0 + 2000)).map((claim) => claim.eventId)).toStrictEqual([
        'same',
        'other'
      ])
      const later = T0 + WINDOW + 1
      const [afterWindow] = await store.accept([newEvent('same', later)], { now: later, dedupeWindowMs: WINDOW })
      expect(afterWindow?.duplicate).toBe(false)
      expect((await store.claim('insider', 10, later)).map((claim) => claim.eventId)).toStrictEqual(['same'])
    })

    it('survives a crash: accepted events and results stay; claims never settled are due again at once', async () => {
      await open()
      await store.accept([newEvent('c-1', T0), newEvent('c-2', T0)], { now: T0, dedupeWindowMs: WINDOW })
      const claims = await store.claim('insider', 10, T0)
      store.settle([{ id: claims[0]?.id ?? '', outcome: 'delivered', detail: 'ok' }], T0 + 1)
      await store.flushSettlements()
      // c-2 to insider is in flight when the process dies.
      store = await harness.reopen()
      expect(store.backlog).toBe(3)
      const resumed = await store.resume(() => true, T0 + 5)
      expect(resumed).toStrictEqual({ resumed: 1, orphaned: 0 })
      expect((await store.claim('insider', 10, T0 + 5)).map((claim) => [claim.eventId, claim.attempt])).toStrictEqual([
        ['c-2', 2]
      ])
      expect((await store.eventResult('c-1'))?.targets.map((target) => target.status)).toStrictEqual([
        'delivered',
        'queued'
      ])
    })

    it('dead-letters, at start, pending deliveries whose target is no longer configured (never drops them)', async () => {
      await open()
      await store.accept([newEvent('o-1', T0)], { now: T0, dedupeWindowMs: WINDOW })
      store = await harness.reopen()
      const report = await store.resume((target) => target.instance !== 'moengage', T0 + 10)
      expect(report).toStrictEqual({ resumed: 0, orphaned: 1 })
      const [letter] = (await store.deadLetters({ limit: 10 })).deadLetters
      expect(letter).toMatchObject({
        instance: 'moengage',
        eventId: 'o-1',
        reason:
          'not delivered: the configuration no longer has instance "moengage" with action "trackEvent" (subscription "Track")'
      })
      expect(store.backlog).toBe(1)
    })

    it('prunes delivered results, dead letters and dedupe keys by age and by count', async () => {
      await open()
      await store.accept(
        Array.from({ length: 6 }, (_, index) => newEvent(`p-${index}`, T0 + index, [insider])),
        { now: T0, dedupeWindowMs: WINDOW }
      )
      const claims = await store.claim('insider', 10, T0 + 10)
      expect(claims).toHaveLength(6)
      store.settle(
        claims.map((claim, index) =>
          index < 3
            ? { id: claim.id, outcome: 'delivered' as const, detail: null }
            : { id: claim.id, outcome: 'dead' as const, status: 400, reason: `refused ${index}` }
        ),
        T0 + 1000
      )
      await store.flushSettlements()
      // Not old enough yet: only the count limit of dead letters applies (2 kept, the oldest goes).
      const early = await store.prune(retention({ maxDeadLetters: 2 }), T0 + 2000)
      expect(early).toMatchObject({ delivered: 0, deadLetters: 1 })
      expect((await store.deadLetters({ limit: 10 })).deadLetters.map((letter) => letter.eventId)).toStrictEqual([
        'p-5',
        'p-4'
      ])
      // Past the delivered age and the dedupe window: results go, and the ids may be accepted again.
      const late = T0 + WINDOW + 120_000
      const report = await store.prune(retention({ deadLettersMs: 2 * WINDOW }), late)
      expect(report).toMatchObject({ delivered: 3, deadLetters: 0 })
      expect(report.dedupeKeys).toBeGreaterThanOrEqual(3)
      expect(await store.eventResult('p-0')).toBeUndefined()
      expect((await store.eventResult('p-5'))?.targets[0]?.status).toBe('dead_lettered')
      const [again] = await store.accept([newEvent('p-0', late, [insider])], { now: late, dedupeWindowMs: WINDOW })
      expect(again?.duplicate).toBe(false)
    })

    it('purges a user (by user id or anonymous id): events, deliveries, results, dead letters; nothing of it is delivered after', async () => {
      await open()
      const of = (id: string, who: Record<string, unknown>): NewEvent => ({
        eventId: id,
        event: { type: 'track', event: 'Purge', messageId: id, ...who } as SegmentEvent,
        receivedAt: T0,
        targets: [insider, moengage]
      })
      await store.accept(
        [
          of('p-user', { userId: 'gone-1' }),
          of('p-anon', { anonymousId: 'anon-gone' }),
          of('p-number', { userId: 42 }),
          of('p-other', { userId: 'stays-1', anonymousId: 'anon-stays' })
        ],
        { now: T0, dedupeWindowMs: WINDOW }
      )
      // One delivery of the user's dead-lettered, one in flight (claimed, not settled yet).
      const insiderClaims = await store.claim('insider', 1, T0)
      expect(insiderClaims.map((claim) => claim.eventId)).toStrictEqual(['p-user'])
      const [dead] = await store.claim('moengage', 1, T0)
      store.settle([{ id: dead?.id ?? '', outcome: 'dead', status: 400, reason: 'bad' }], T0 + 1)
      await store.flushSettlements()
      expect(store.backlog).toBe(7)

      const report = await store.purgeUser({ userId: 'gone-1', anonymousIds: ['anon-gone'] })
      expect({ ...report, eventIds: [...report.eventIds].sort() }).toStrictEqual({
        events: 2,
        deliveries: 4,
        deadLetters: 1,
        eventIds: ['p-anon', 'p-user']
      })
      expect(await store.purgeUser({ userId: '42', anonymousIds: [] })).toStrictEqual({
        events: 1,
        deliveries: 2,
        deadLetters: 0,
        eventIds: ['p-number']
      })
      expect(store.backlog).toBe(2)
      for (const id of ['p-user', 'p-anon', 'p-number']) expect(await store.eventResult(id)).toBeUndefined()
      expect((await store.deadLetters({ limit: 10 })).deadLetters).toStrictEqual([])
      expect((await store.counts()).deadLettersByInstance).toStrictEqual({})
      // The in-flight attempt settles into nothing; only the other user's deliveries are handed out.
      store.settle(
        [{ id: insiderClaims[0]?.id ?? '', outcome: 'delivered', status: 200, detail: null, state: [] }],
        T0 + 2
      )
      await store.flushSettlements()
      expect(store.backlog).toBe(2)
      expect((await store.claim('insider', 10, T0 + 3)).map((claim) => claim.eventId)).toStrictEqual(['p-other'])
      // Re-sending a purged message within the window is not delivered again.
      const again = await store.accept([of('p-user', { userId: 'gone-1' })], { now: T0 + 4, dedupeWindowMs: WINDOW })
      expect(again[0]?.duplicate).toBe(true)
      store = await harness.reopen()
      expect(await store.eventResult('p-anon')).toBeUndefined()
      expect(store.backlog).toBe(2)
    })

    it('keeps deletion records across a restart', async () => {
      await open()
      const record = {
        id: 'del-1',
        at: new Date(T0).toISOString(),
        userIdSha256: 'a'.repeat(64),
        anonymousIds: 1,
        instances: [{ instance: 'tray', status: 'deleted' as const }],
        purged: { events: 1, deliveries: 2, deadLetters: 0 }
      }
      await store.recordDeletion(record)
      store = await harness.reopen()
      expect(await store.deletion('del-1')).toStrictEqual(record)
      expect(await store.deletion('del-2')).toBeUndefined()
    })

    it('with the workers: Retry-After is never undercut, the budget ends retries, batches get one result per event', async () => {
      await open()
      const attempts: { eventId: string; at: number }[] = []
      const script = new Map<string, AttemptOutcome[]>([
        [
          'w-429',
          [
            { ok: false, status: 429, message: 'slow down', retryAfterMs: 300 },
            { ok: true, detail: 'second time' }
          ]
        ],
        ['w-400', [{ ok: false, status: 400, message: 'bad field', retryAfterMs: undefined }]],
        [
          'w-5xx',
          Array.from({ length: 50 }, () => ({
            ok: false as const,
            status: 503,
            message: 'down',
            retryAfterMs: undefined
          }))
        ]
      ])
      const target: Target = {
        kind: 'source',
        ref: insider,
        key: 'contract',
        batched: true,
        source: undefined as never
      }
      const lane: Lane = {
        id: 'insider',
        maxConcurrent: 2,
        targets: new Map([[`insider\u0000trackEvent\u0000Track`, target]]),
        // The workers never send: `execute` below answers for the vendor.
        transport: undefined as never,
        client: 'runtime'
      }
      const workers = new Workers({
        store,
        lanes: new Map([['insider', lane]]),
        retry: { baseDelayMs: 20, maxDelayMs: 50, retryForMs: 1_000, maxAttempts: undefined },
        batching: { maxEvents: 10, maxBytes: 1024 * 1024, maxWaitMs: 20 },
        logger: quietLogger,
        execute: async (_lane, _target, claims: readonly Claim[]) =>
          claims.map((claim) => {
            attempts.push({ eventId: claim.eventId, at: Date.now() })
            const next = script.get(claim.eventId)?.shift()
            return next ?? { ok: true, detail: 'ok' }
          })
      })
      const now = Date.now()
      await store.accept(
        ['w-429', 'w-400', 'w-5xx', 'w-ok'].map((id) => newEvent(id, now, [insider])),
        { now, dedupeWindowMs: WINDOW }
      )
      workers.start()
      const deadline = Date.now() + 10_000
      while (store.backlog > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
      await workers.stop(Date.now())
      await store.flushSettlements()
      const times = attempts.filter((attempt) => attempt.eventId === 'w-429').map((attempt) => attempt.at)
      expect(times).toHaveLength(2)
      expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(295)
      const status = async (id: string) => (await store.eventResult(id))?.targets[0]
      expect(await status('w-429')).toMatchObject({ status: 'delivered', attempts: 2, detail: 'second time' })
      expect(await status('w-ok')).toMatchObject({ status: 'delivered', attempts: 1 })
      expect(await status('w-400')).toMatchObject({ status: 'dead_lettered', attempts: 1, detail: 'bad field' })
      const exhausted = await status('w-5xx')
      expect(exhausted).toMatchObject({ status: 'dead_lettered', httpStatus: 503 })
      expect(String(exhausted?.detail)).toMatch(
        /^gave up after \d+ attempts over [\d.]+ s \(delivery\.retryForMs 1 s\): down$/
      )
      expect(exhausted?.attempts).toBeGreaterThan(3)
      // The first attempts of all four went out together, in one batch.
      expect(new Set(attempts.slice(0, 4).map((attempt) => attempt.eventId)).size).toBe(4)
    })
  })
}
