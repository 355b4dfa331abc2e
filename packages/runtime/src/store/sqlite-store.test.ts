import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from '@jest/globals'
import Database from 'better-sqlite3'
import { SqliteStore } from './sqlite-store'
import { StateDirInUseError } from './state-dir'
import { describeStoreContract, type StoreHarness } from './store-contract.test-helpers'

function sqliteHarness(): StoreHarness {
  const root = mkdtempSync(join(tmpdir(), 'open-actions-store-'))
  const stateDir = join(root, 'state')
  let current: SqliteStore | undefined
  return {
    async open() {
      current = new SqliteStore({ stateDir })
      return current
    },
    async reopen() {
      // A crash: what was written stays; the next process opens the same directory.
      await current?.close()
      current = new SqliteStore({ stateDir })
      return current
    },
    async dispose() {
      await current?.close()
      rmSync(root, { recursive: true, force: true })
    }
  }
}

describeStoreContract('sqlite', sqliteHarness)

describe('the SQLite store on disk', () => {
  const roots: string[] = []
  const stateDir = () => {
    const root = mkdtempSync(join(tmpdir(), 'open-actions-sqlite-'))
    roots.push(root)
    return join(root, 'state')
  }
  afterEach(() => {
    for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true })
  })

  it('keeps its state owner-only: the directory 0700, its files 0600', async () => {
    const directory = stateDir()
    const store = new SqliteStore({ stateDir: directory })
    await store.accept([{ eventId: 'x', event: { type: 'track', event: 'X' }, receivedAt: 1, targets: [] }], {
      now: 1,
      dedupeWindowMs: 1000
    })
    expect(statSync(directory).mode & 0o777).toBe(0o700)
    for (const file of ['state.db', 'state.db-wal', 'runtime.lock'])
      expect(statSync(join(directory, file)).mode & 0o777).toBe(0o600)
    await store.close()
  })

  it('is used by one process at a time: a second open is refused at once, and the lock goes with the store', async () => {
    const directory = stateDir()
    const first = new SqliteStore({ stateDir: directory })
    expect(() => new SqliteStore({ stateDir: directory })).toThrow(StateDirInUseError)
    expect(() => new SqliteStore({ stateDir: directory })).toThrow(/is in use by another open-actions process/)
    await first.close()
    const second = new SqliteStore({ stateDir: directory })
    await second.close()
  })

  it('versions its schema and refuses state written by a newer release', async () => {
    const directory = stateDir()
    await new SqliteStore({ stateDir: directory }).close()
    const db = new Database(join(directory, 'state.db'))
    expect(db.pragma('user_version', { simple: true })).toBe(3)
    db.pragma('user_version = 99')
    db.close()
    expect(() => new SqliteStore({ stateDir: directory })).toThrow(
      /written by a newer open-actions \(schema 99; this release knows up to 3\)/
    )
  })

  it('refuses to accept while it cannot write (another writer holds the database), keeps settlements until it can', async () => {
    const directory = stateDir()
    const healthChanges: boolean[] = []
    const store = new SqliteStore({ stateDir: directory, onHealthChange: (health) => healthChanges.push(health.ok) })
    await store.accept(
      [
        {
          eventId: 'a',
          event: { type: 'track', event: 'A' },
          receivedAt: 1,
          targets: [{ instance: 'i', integration: 'i', action: 'a', subscription: 's' }]
        }
      ],
      {
        now: 1,
        dedupeWindowMs: 1000
      }
    )
    const [claim] = await store.claim('i', 1, 2)
    const intruder = new Database(join(directory, 'state.db'), { timeout: 0 })
    intruder.exec('BEGIN EXCLUSIVE')
    await expect(
      store.accept([{ eventId: 'b', event: { type: 'track', event: 'B' }, receivedAt: 3, targets: [] }], {
        now: 3,
        dedupeWindowMs: 1000
      })
    ).rejects.toThrow(/^the store cannot commit events: SQLITE_BUSY: database is locked$/)
    store.settle([{ id: claim?.id ?? '', outcome: 'delivered', detail: 'ok' }], 4)
    await new Promise((resolve) => setTimeout(resolve, 400))
    expect(store.health).toMatchObject({ ok: false, error: 'SQLITE_BUSY: database is locked' })
    expect(store.backlog).toBe(1)
    intruder.exec('ROLLBACK')
    intruder.close()
    await store.flushSettlements()
    expect(store.health).toStrictEqual({ ok: true })
    expect(store.backlog).toBe(0)
    expect((await store.eventResult('a'))?.targets[0]).toMatchObject({ status: 'delivered', attempts: 1 })
    expect(healthChanges).toStrictEqual([false, true])
    await store.close()
  })
})
