import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it } from '@jest/globals'
import type { SegmentEvent } from '@segment/actions-core'
import { BullMqStore, type BullMqStoreOptions, jobHashOf, queueNameOf } from './bullmq-store'
import type { TargetRef } from './results'
import type { StoreHarness } from './store-contract.test-helpers'

/**
 * The contract suite's harness for a BullMQ backend: each test its own namespace on the one server (nothing of another
 * test is seen); `reopen` is a crash: what the server holds stays, and the same worker (same name) starts again.
 */
export function bullMqHarness(openStore: (options: BullMqStoreOptions) => Promise<BullMqStore>): () => StoreHarness {
  return () => {
    const namespace = `contract-${randomUUID()}`
    let current: BullMqStore | undefined
    const open = async () => {
      current = await openStore({ namespace, owner: 'contract-worker' })
      return current
    }
    return {
      open,
      async reopen() {
        await current?.close()
        return open()
      },
      async dispose() {
        await current?.close()
      }
    }
  }
}

/**
 * What a store shared by processes must do beyond the contract, on every BullMQ backend: two workers never get the same
 * delivery, a dead worker's deliveries are taken over, a rate limit holds across workers, a process with another
 * configuration is refused. `open` opens a store of the backend under test (each call: another process).
 */
export function describeSharedStore(
  name: string,
  openStore: (options: BullMqStoreOptions) => Promise<BullMqStore>
): void {
  describe(`the ${name} store between processes`, () => {
    const stores: BullMqStore[] = []
    afterEach(async () => {
      for (const store of stores.splice(0)) await store.close()
    })
    const open = async (namespace: string, owner: string, extra: Partial<BullMqStoreOptions> = {}) => {
      const store = await openStore({ namespace, owner, ...extra })
      stores.push(store)
      return store
    }
    const tray: TargetRef = { instance: 'tray', integration: 'tray', action: 'sendEvent', subscription: 'All' }
    const accept = (store: BullMqStore, count: number, now = Date.now()) =>
      store.accept(
        Array.from({ length: count }, (_, index) => ({
          eventId: `m-${index}`,
          event: { type: 'track', event: 'Shared', userId: 'u', messageId: `m-${index}` } as SegmentEvent,
          receivedAt: now,
          targets: [tray]
        })),
        { now, dedupeWindowMs: 60_000 }
      )

    it('two workers claiming one lane never get the same delivery; an API process sees their results', async () => {
      const namespace = `shared-${randomUUID()}`
      const api = await open(namespace, 'api')
      const [first, second] = [await open(namespace, 'worker-1'), await open(namespace, 'worker-2')]
      await accept(api, 40)
      const now = Date.now()
      const claims = (
        await Promise.all([first.claim('tray', 15, now), second.claim('tray', 15, now), first.claim('tray', 15, now)])
      ).flat()
      expect(claims).toHaveLength(40)
      expect(new Set(claims.map((claim) => claim.eventId)).size).toBe(40)
      for (const store of [first, second]) {
        const mine = claims.filter((claim) => claim.id.startsWith(`worker-${store === first ? 1 : 2}/`))
        store.settle(
          mine.map((claim) => ({ id: claim.id, outcome: 'delivered' as const, status: 200, detail: null })),
          now
        )
        await store.flushSettlements()
      }
      expect((await api.counts()).backlog).toBe(0)
      expect((await api.eventResult('m-7'))?.targets[0]).toMatchObject({ status: 'delivered', attempts: 1 })
    })

    it('a worker that dies holding deliveries: another takes them over once the lock runs out (attempt 2)', async () => {
      const namespace = `stalled-${randomUUID()}`
      const dying = await open(namespace, 'dying', { lockDurationMs: 1000 })
      const survivor = await open(namespace, 'survivor', { lockDurationMs: 1000 })
      await accept(dying, 3)
      expect(await dying.claim('tray', 10, Date.now())).toHaveLength(3)
      expect(await survivor.claim('tray', 10, Date.now())).toStrictEqual([])
      // The dying worker's connection goes without settling or renewing anything, as a kill -9 leaves it.
      stores.splice(stores.indexOf(dying), 1)
      await dying.close()
      const taken = await waitUntil(async () => {
        const claims = await survivor.claim('tray', 10, Date.now())
        return claims.length > 0 ? claims : undefined
      })
      expect(taken.map((claim) => [claim.eventId, claim.attempt]).sort()).toStrictEqual([
        ['m-0', 2],
        ['m-1', 2],
        ['m-2', 2]
      ])
    })

    it("a rate limit holds across workers: BullMQ's limiter hands out at most max per interval, whoever asks", async () => {
      const namespace = `limited-${randomUUID()}`
      const rateLimits = new Map([['tray', { max: 5, durationMs: 60_000 }]])
      const first = await open(namespace, 'worker-1', { rateLimits })
      const second = await open(namespace, 'worker-2', { rateLimits })
      await accept(first, 20)
      const now = Date.now()
      const claimed = [
        ...(await first.claim('tray', 3, now)),
        ...(await second.claim('tray', 10, now)),
        ...(await first.claim('tray', 10, now))
      ]
      expect(claimed).toHaveLength(5)
      // Waiting work is not due before the limit lets it: the workers sleep instead of spinning.
      expect(await second.nextDueAt('tray')).toBeGreaterThan(now + 50_000)
    })

    it('at start, dead-letters the deliveries of a removed subscription wherever they wait in a long queue', async () => {
      const namespace = `orphans-${randomUUID()}`
      const first = await open(namespace, 'worker-1')
      const removed: TargetRef = { ...tray, subscription: 'Removed' }
      const now = Date.now()
      await accept(first, 2_100, now)
      await first.accept(
        Array.from({ length: 5 }, (_, index) => ({
          eventId: `gone-${index}`,
          event: { type: 'track', event: 'Gone', userId: 'u', messageId: `gone-${index}` } as SegmentEvent,
          receivedAt: now,
          targets: [removed]
        })),
        { now, dedupeWindowMs: 60_000 }
      )
      const restarted = await open(namespace, 'worker-1')
      expect(await restarted.resume((target) => target.subscription !== 'Removed', now)).toStrictEqual({
        resumed: 0,
        orphaned: 5
      })
      expect((await restarted.counts()).backlog).toBe(2_100)
      expect(
        (await restarted.deadLetters({ limit: 10 })).deadLetters.map((letter) => letter.eventId).sort()
      ).toStrictEqual(['gone-0', 'gone-1', 'gone-2', 'gone-3', 'gone-4'])
    })

    it('imports dead letters recorded elsewhere once, lists them, and replays them like its own', async () => {
      const store = await open(`import-${randomUUID()}`, 'worker-1')
      const letter = (id: string, at: string) => ({
        id,
        at,
        instance: 'tray',
        integration: 'tray',
        partnerAction: 'sendEvent',
        subscription: 'All',
        eventId: `event-${id}`,
        event: { type: 'track', event: 'Imported', userId: 'u', messageId: `event-${id}` } as SegmentEvent,
        status: 500,
        reason: 'the vendor was down',
        attempts: 3
      })
      const letters = [letter('legacy-1', '2026-01-01T00:00:00.000Z'), letter('legacy-2', '2026-01-02T00:00:00.000Z')]
      expect(await store.importDeadLetters(letters)).toBe(2)
      expect(await store.importDeadLetters(letters)).toBe(0)
      expect((await store.deadLetters({ limit: 10 })).deadLetters).toStrictEqual([letters[1], letters[0]])
      expect(await store.counts()).toMatchObject({ deadLetters: 2, deadLettersByInstance: { tray: 2 } })
      const now = Date.now()
      expect(await store.replay({ ids: ['legacy-1'] }, { now, isReplayable: () => true })).toStrictEqual({
        replayed: 1,
        notReplayable: 0,
        notFound: []
      })
      const [claim] = await store.claim('tray', 10, now)
      expect([claim?.eventId, claim?.attempt, claim?.target.action]).toStrictEqual(['event-legacy-1', 1, 'sendEvent'])
    })

    it('processes with another configuration are refused while one runs; the same one is welcome', async () => {
      const namespace = `config-${randomUUID()}`
      await open(namespace, 'api', { configHash: 'a'.repeat(64) })
      await expect(open(namespace, 'worker', { configHash: 'b'.repeat(64) })).rejects.toThrow(
        /use another configuration \(sha256 aaaaaaaaaaaa…, this one bbbbbbbbbbbb…\)/
      )
      await expect(open(namespace, 'worker', { configHash: 'a'.repeat(64) })).resolves.toBeInstanceOf(BullMqStore)
    })

    it('a job id has no ":" (BullMQ refuses it) and is the same for the same delivery', () => {
      const id = jobHashOf({ ...tray, instance: 'source:hook' }, 'message:with:colons')
      expect(id).not.toContain(':')
      expect(id).toBe(jobHashOf({ ...tray, instance: 'source:hook' }, 'message:with:colons'))
      expect(queueNameOf('source:hook')).toBe('q-source.hook')
    })
  })
}

async function waitUntil<T>(check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
