import {
  createPostgresBackend,
  type JobProgress,
  type PostgresConnectionOptions,
  type PostgresQueueBackend,
  Queue,
  Worker
} from 'bullmq'
import { Client, Pool, type PoolClient } from 'pg'
import { CONFIG_TTL_MS, ConfigurationMismatchError } from './bullmq-store'
import type {
  BeginItem,
  BeginReply,
  ClaimItem,
  ClaimReply,
  CommitItem,
  ImportItem,
  Records,
  SettleItem,
  StoredResult,
  WorkerTuning
} from './records'
import type { StoreHealth } from './store'

/** A PostgreSQL URL without its password, for messages. */
export function redactPostgresUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')
}

/** The schemas of a namespace: ours, and BullMQ's beside it (lower-case letters, digits and `_`). */
export function schemasOf(namespace: string): { records: string; jobs: string } {
  const base = `oa_${namespace.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`.slice(0, 58)
  return { records: base, jobs: `${base}_jobs` }
}

const pad = (value: number | string, width: number) => String(value).padStart(width, '0')

interface ResultRow {
  i: number
  st: StoredResult['st']
  at: number
  hs: number | null
  na: string | null
  dl: string | null
  j: string
  l: string
  detail: string | null
}

function storedOf(row: ResultRow): StoredResult {
  return {
    st: row.st,
    at: row.at,
    ...(row.hs === null ? {} : { hs: row.hs }),
    ...(row.na === null ? {} : { na: Number(row.na) }),
    ...(row.dl === null ? {} : { dl: row.dl }),
    j: row.j,
    l: row.l
  }
}

const CONNECTION_ERRORS = /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|terminat|Connection|connect/i

/**
 * The records on PostgreSQL (13+): tables in the namespace's schema, each operation one transaction with the rows it
 * changes locked (an event's records under an advisory lock on its id), next to BullMQ's PostgreSQL backend in a
 * schema of its own. Work for a lane is announced with NOTIFY.
 */
export class PostgresRecords implements Records {
  readonly kind = 'postgres'
  private readonly pool: Pool
  private readonly schemas: { records: string; jobs: string }
  private readonly healthListeners: ((health: StoreHealth) => void)[] = []
  private listener: Client | undefined
  private heartbeat: NodeJS.Timeout | undefined
  private ok = true
  private closing = false

  constructor(
    private readonly url: string,
    private readonly namespace: string
  ) {
    this.schemas = schemasOf(namespace)
    this.pool = new Pool({ connectionString: url, max: 8, connectionTimeoutMillis: 5000 })
    this.pool.on('error', (error: Error) => this.tell({ ok: false, error: error.message }))
  }

  private get s(): string {
    return `"${this.schemas.records}"`
  }

  private tell(health: StoreHealth): void {
    this.ok = health.ok
    for (const listener of this.healthListeners) listener(health)
  }

  onHealth(listener: (health: StoreHealth) => void): void {
    this.healthListeners.push(listener)
  }

  /** One transaction; a connection error marks the server unreachable until a later one succeeds. */
  private async tx<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    let client: PoolClient
    try {
      client = await this.pool.connect()
    } catch (error) {
      this.tell({ ok: false, error: (error as Error).message })
      throw error
    }
    try {
      await client.query('BEGIN')
      const result = await work(client)
      await client.query('COMMIT')
      if (!this.ok) this.tell({ ok: true })
      return result
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      if (CONNECTION_ERRORS.test((error as Error).message)) this.tell({ ok: false, error: (error as Error).message })
      throw error
    } finally {
      client.release()
    }
  }

  private async read<T extends object>(sql: string, values: readonly unknown[] = []): Promise<T[]> {
    try {
      const result = await this.pool.query<T>(sql, [...values])
      if (!this.ok) this.tell({ ok: true })
      return result.rows
    } catch (error) {
      if (CONNECTION_ERRORS.test((error as Error).message)) this.tell({ ok: false, error: (error as Error).message })
      throw error
    }
  }

  async connect(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      try {
        await this.migrate()
        return
      } catch (error) {
        if (Date.now() > deadline || !CONNECTION_ERRORS.test((error as Error).message))
          throw new Error(
            `cannot use PostgreSQL at ${redactPostgresUrl(this.url)} within ${timeoutMs} ms: ${(error as Error).message}`
          )
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
    }
  }

  /** Creates the schema and tables once (idempotent, under an advisory lock so processes starting together agree). */
  private async migrate(): Promise<void> {
    const s = this.s
    await this.tx(async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`open-actions-migrate:${this.schemas.records}`])
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`)
      await client.query(`
        CREATE TABLE IF NOT EXISTS ${s}.records (
          idg text PRIMARY KEY, id text NOT NULL, g bigint NOT NULL, s smallint NOT NULL, a bigint NOT NULL,
          rc bigint NOT NULL, e text NOT NULL, t text NOT NULL, n int NOT NULL, p int NOT NULL, d int NOT NULL,
          u text, an text, done_at bigint);
        CREATE INDEX IF NOT EXISTS records_u ON ${s}.records (u) WHERE u IS NOT NULL;
        CREATE INDEX IF NOT EXISTS records_an ON ${s}.records (an) WHERE an IS NOT NULL;
        CREATE INDEX IF NOT EXISTS records_done ON ${s}.records (done_at) WHERE done_at IS NOT NULL;
        CREATE INDEX IF NOT EXISTS records_pending ON ${s}.records (rc) WHERE s = 1 AND p > 0;
        CREATE TABLE IF NOT EXISTS ${s}.results (
          idg text NOT NULL, i int NOT NULL, st char(1) NOT NULL, at int NOT NULL, hs int, na bigint, dl text,
          j text NOT NULL, l text NOT NULL, detail text, PRIMARY KEY (idg, i));
        CREATE TABLE IF NOT EXISTS ${s}.cur (id text PRIMARY KEY, g bigint NOT NULL);
        CREATE TABLE IF NOT EXISTS ${s}.dedupe (id text PRIMARY KEY, at bigint NOT NULL);
        CREATE INDEX IF NOT EXISTS dedupe_at ON ${s}.dedupe (at);
        CREATE TABLE IF NOT EXISTS ${s}.letters (
          lid text PRIMARY KEY, m text COLLATE "C" NOT NULL UNIQUE, at bigint NOT NULL, id text NOT NULL,
          g text NOT NULL, i int NOT NULL, l text NOT NULL, inst text NOT NULL, tg text NOT NULL, hs text NOT NULL,
          rs text NOT NULL, att int NOT NULL, e text NOT NULL);
        CREATE INDEX IF NOT EXISTS letters_inst ON ${s}.letters (inst);
        CREATE TABLE IF NOT EXISTS ${s}.state (idg text NOT NULL, i int NOT NULL, k text NOT NULL, v text NOT NULL,
          PRIMARY KEY (idg, i, k));
        CREATE TABLE IF NOT EXISTS ${s}.due (lane text NOT NULL, job text NOT NULL, at bigint NOT NULL,
          retry boolean NOT NULL, ord bigint NOT NULL DEFAULT 0, PRIMARY KEY (lane, job));
        CREATE INDEX IF NOT EXISTS due_at ON ${s}.due (lane, at);
        CREATE TABLE IF NOT EXISTS ${s}.lanes (lane text PRIMARY KEY);
        CREATE TABLE IF NOT EXISTS ${s}.targets (t text PRIMARY KEY);
        CREATE TABLE IF NOT EXISTS ${s}.deletions (id text PRIMARY KEY, body text NOT NULL);
        CREATE TABLE IF NOT EXISTS ${s}.meta (k text PRIMARY KEY, v text NOT NULL, expires_at bigint);
        CREATE TABLE IF NOT EXISTS ${s}.counters (k text PRIMARY KEY, v bigint NOT NULL);
        INSERT INTO ${s}.counters VALUES ('backlog', 0) ON CONFLICT DO NOTHING;
        CREATE SEQUENCE IF NOT EXISTS ${s}.gen;
        CREATE SEQUENCE IF NOT EXISTS ${s}.dlseq;`)
    })
  }

  async holdConfiguration(hash: string): Promise<void> {
    const s = this.s
    const hold = () =>
      this.tx(async (client) => {
        const now = Date.now()
        const { rows } = await client.query<{ v: string; expires_at: string }>(
          `SELECT v, expires_at FROM ${s}.meta WHERE k = 'config' FOR UPDATE`
        )
        const running = rows[0]
        if (running && running.v !== hash && Number(running.expires_at) > now)
          throw new ConfigurationMismatchError(running.v, hash, this.namespace, 'PostgreSQL')
        await client.query(
          `INSERT INTO ${s}.meta VALUES ('config', $1, $2) ON CONFLICT (k) DO UPDATE SET v = $1, expires_at = $2`,
          [hash, now + CONFIG_TTL_MS]
        )
      })
    await hold()
    this.heartbeat = setInterval(() => {
      void hold().catch(() => undefined)
    }, CONFIG_TTL_MS / 3)
    this.heartbeat.unref()
  }

  async close(): Promise<void> {
    this.closing = true
    if (this.heartbeat) clearInterval(this.heartbeat)
    await this.listener?.end().catch(() => undefined)
    await this.pool.end().catch(() => undefined)
  }

  private bullOptions() {
    return { connection: { connectionString: this.url, schema: this.schemas.jobs, migrate: true, max: 3 } }
  }

  newQueue<T>(name: string): Queue<T> {
    const queue = new Queue<T, unknown, string, T, unknown, string, PostgresQueueBackend, PostgresConnectionOptions>(
      name,
      this.bullOptions(),
      createPostgresBackend
    )
    // BullMQ types a queue by its backend; the store calls only the API every backend has.
    return queue as unknown as Queue<T>
  }

  newWorker<T>(name: string, tuning: WorkerTuning): Worker<T> {
    const worker = new Worker<T, unknown, string, PostgresQueueBackend, JobProgress, PostgresConnectionOptions>(
      name,
      null,
      {
        ...this.bullOptions(),
        autorun: false,
        lockDuration: tuning.lockDuration,
        stalledInterval: tuning.stalledInterval,
        maxStalledCount: tuning.maxStalledCount,
        ...(tuning.limiter ? { limiter: { max: tuning.limiter.max, duration: tuning.limiter.duration } } : {})
      },
      createPostgresBackend
    )
    return worker as unknown as Worker<T>
  }

  async lockOf(queueName: string, jobId: string): Promise<string | null> {
    const rows = await this.read<{ lock_token: string | null }>(
      `SELECT lock_token FROM "${this.schemas.jobs}".job WHERE queue = $1 AND id = $2`,
      [queueName, jobId]
    )
    return rows[0]?.lock_token ?? null
  }

  /** Serializes work on these event ids across processes (sorted, so two transactions never wait on each other). */
  private async lockEvents(client: PoolClient, ids: readonly string[]): Promise<void> {
    for (const id of [...new Set(ids)].sort())
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`open-actions-event:${id}`])
  }

  private async addBacklog(client: PoolClient, delta: number): Promise<void> {
    if (delta !== 0) await client.query(`UPDATE ${this.s}.counters SET v = v + $1 WHERE k = 'backlog'`, [delta])
  }

  async begin(items: readonly BeginItem[], now: number, windowMs: number): Promise<BeginReply[]> {
    const s = this.s
    return this.tx(async (client) => {
      await this.lockEvents(
        client,
        items.map((item) => item.id)
      )
      const replies: BeginReply[] = []
      for (const it of items) {
        const seen = (await client.query<{ at: string }>(`SELECT at FROM ${s}.dedupe WHERE id = $1`, [it.id])).rows[0]
        const current = (await client.query<{ g: string }>(`SELECT g FROM ${s}.cur WHERE id = $1`, [it.id])).rows[0]
        const state = current
          ? (await client.query<{ s: number }>(`SELECT s FROM ${s}.records WHERE idg = $1`, [`${it.id}|${current.g}`]))
              .rows[0]?.s
          : undefined
        if (seen && Number(seen.at) > now - windowMs && state !== 0) {
          replies.push({ verdict: 'dup', generation: current?.g ?? '' })
          continue
        }
        if (state === 0 && current) {
          replies.push({ verdict: 'new', generation: current.g })
          continue
        }
        const g = (await client.query<{ g: string }>(`SELECT nextval('${s}.gen') AS g`)).rows[0]?.g ?? ''
        await client.query(`INSERT INTO ${s}.cur VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET g = $2`, [it.id, g])
        const idg = `${it.id}|${g}`
        const n = it.h.length
        await client.query(
          `INSERT INTO ${s}.records (idg, id, g, s, a, rc, e, t, n, p, d, u, an) VALUES ($1, $2, $3, 0, $4, $5, $6, $7, $8, $8, 0, $9, $10)`,
          [idg, it.id, g, now, it.rc, it.e, it.t, n, it.u ?? null, it.an ?? null]
        )
        await client.query(
          `INSERT INTO ${s}.results (idg, i, st, at, j, l) SELECT $1, i - 1, 'p', 0, h || '-' || $2, l
             FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS x(h, l, i)`,
          [idg, g, it.h, it.l]
        )
        replies.push({ verdict: 'new', generation: g })
      }
      return replies
    })
  }

  async commit(items: readonly CommitItem[], now: number): Promise<number> {
    const s = this.s
    return this.tx(async (client) => {
      await this.lockEvents(
        client,
        items.map((item) => item.id)
      )
      for (const it of items) {
        const idg = `${it.id}|${it.g}`
        const record = (
          await client.query<{ s: number; p: number; d: number }>(
            `SELECT r.s, r.p, r.d FROM ${s}.records r JOIN ${s}.cur c ON c.id = r.id AND c.g = r.g WHERE r.idg = $1`,
            [idg]
          )
        ).rows[0]
        if (!record || record.s !== 0) continue
        await client.query(
          `UPDATE ${s}.records SET s = 1, done_at = CASE WHEN p = 0 AND d = 0 THEN $2::bigint END WHERE idg = $1`,
          [idg, now]
        )
        await client.query(`INSERT INTO ${s}.dedupe VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET at = $2`, [
          it.id,
          now
        ])
        await this.addBacklog(client, record.p)
        await client.query(
          `INSERT INTO ${s}.lanes SELECT DISTINCT l FROM ${s}.results WHERE idg = $1 ON CONFLICT DO NOTHING`,
          [idg]
        )
        await client.query(
          `INSERT INTO ${s}.due SELECT l, j, $2, false FROM ${s}.results WHERE idg = $1 AND st = 'p' AND at = 0
             ON CONFLICT (lane, job) DO UPDATE SET at = EXCLUDED.at, retry = false`,
          [idg, now]
        )
        await client.query(`INSERT INTO ${s}.targets SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`, [it.tk])
      }
      return Number(
        (await client.query<{ v: string }>(`SELECT v FROM ${s}.counters WHERE k = 'backlog'`)).rows[0]?.v ?? 0
      )
    })
  }

  /** Takes a dead letter out of the list and makes its delivery due again as job `job`. */
  private async replayLetter(client: PoolClient, lid: string, now: number, job: string): Promise<number> {
    const s = this.s
    const letter = (
      await client.query<{ id: string; g: string; i: number; l: string }>(
        `DELETE FROM ${s}.letters WHERE lid = $1 RETURNING id, g, i, l`,
        [lid]
      )
    ).rows[0]
    if (!letter) return 0
    const idg = `${letter.id}|${letter.g}`
    const updated = await client.query(
      `UPDATE ${s}.results SET st = 'p', at = 0, hs = NULL, na = NULL, dl = NULL, detail = NULL, j = $3
         WHERE idg = $1 AND i = $2`,
      [idg, letter.i, job]
    )
    if (updated.rowCount === 0) return 1
    const record = (
      await client.query<{ s: number }>(
        `UPDATE ${s}.records SET p = p + 1, d = d - 1, done_at = NULL WHERE idg = $1 RETURNING s`,
        [idg]
      )
    ).rows[0]
    if (record?.s === 1) await this.addBacklog(client, 1)
    await client.query(
      `INSERT INTO ${s}.due VALUES ($1, $2, $3, false) ON CONFLICT (lane, job) DO UPDATE SET at = $3, retry = false`,
      [letter.l, job, now]
    )
    return 1
  }

  async claim(items: readonly ClaimItem[], now: number): Promise<ClaimReply[]> {
    const s = this.s
    return this.tx(async (client) => {
      await this.lockEvents(
        client,
        items.map((item) => item.id)
      )
      const replies: ClaimReply[] = []
      for (const c of items) {
        const idg = `${c.id}|${c.g}`
        if (c.lt !== undefined) await this.replayLetter(client, c.lt, now, c.j)
        await client.query(`DELETE FROM ${s}.due WHERE lane = $1 AND job = $2`, [c.l, c.j])
        const row = (await client.query<ResultRow>(`SELECT * FROM ${s}.results WHERE idg = $1 AND i = $2`, [idg, c.i]))
          .rows[0]
        if (!row || row.j !== c.j) {
          replies.push({ kind: row && (row.st === 'd' || row.st === 'x') ? 'final' : 'stale' })
          continue
        }
        if (row.st === 'd' || row.st === 'x') {
          replies.push({ kind: 'final' })
          continue
        }
        await client.query(`UPDATE ${s}.results SET at = at + 1, st = 'f', na = NULL WHERE idg = $1 AND i = $2`, [
          idg,
          c.i
        ])
        const record = (
          await client.query<{ e: string; t: string }>(`SELECT e, t FROM ${s}.records WHERE idg = $1`, [idg])
        ).rows[0]
        const state = (
          await client.query<{ k: string; v: string }>(`SELECT k, v FROM ${s}.state WHERE idg = $1 AND i = $2`, [
            idg,
            c.i
          ])
        ).rows
        replies.push({
          kind: 'ok',
          event: record?.e ?? '{}',
          targets: record?.t ?? '[]',
          attempt: row.at + 1,
          state: state.map((entry) => [entry.k, entry.v] as const)
        })
      }
      return replies
    })
  }

  async settle(items: readonly SettleItem[], now: number): Promise<(0 | 1 | string)[]> {
    const s = this.s
    return this.tx(async (client) => {
      await this.lockEvents(
        client,
        items.map((item) => item.id)
      )
      const replies: (0 | 1 | string)[] = []
      for (const it of items) {
        const idg = `${it.id}|${it.g}`
        const row = (await client.query<ResultRow>(`SELECT * FROM ${s}.results WHERE idg = $1 AND i = $2`, [idg, it.i]))
          .rows[0]
        if (!row || row.st === 'd' || row.st === 'x' || row.j !== it.j) {
          replies.push(0)
          continue
        }
        const committed =
          (await client.query<{ s: number }>(`SELECT s FROM ${s}.records WHERE idg = $1`, [idg])).rows[0]?.s === 1
        let reply: 0 | 1 | string = 1
        let st: StoredResult['st']
        let na: number | null = null
        let dl: string | null = null
        if (it.o === 'retry') {
          st = 'p'
          na = it.at ?? now
          // Ordered by generation and target index: retries due at the same time go out in acceptance order.
          await client.query(
            `INSERT INTO ${s}.due VALUES ($1, $2, $3, true, $4)
               ON CONFLICT (lane, job) DO UPDATE SET at = $3, retry = true, ord = $4`,
            [row.l, row.j, na, Number(it.g) * 10_000 + it.i]
          )
        } else {
          const record = (
            await client.query<{ p: number; d: number; e: string }>(
              `UPDATE ${s}.records SET p = p - 1 WHERE idg = $1 RETURNING p, d, e`,
              [idg]
            )
          ).rows[0]
          if (committed) await this.addBacklog(client, -1)
          if (it.o === 'delivered') {
            st = 'd'
            await client.query(`DELETE FROM ${s}.state WHERE idg = $1 AND i = $2`, [idg, it.i])
            if (record && record.p <= 0 && record.d === 0 && committed)
              await client.query(`UPDATE ${s}.records SET done_at = $2 WHERE idg = $1`, [idg, now])
          } else {
            st = 'x'
            const seq = (await client.query<{ v: string }>(`SELECT nextval('${s}.dlseq') AS v`)).rows[0]?.v ?? '0'
            dl = pad(seq, 12)
            await client.query(
              `INSERT INTO ${s}.letters VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
              [
                dl,
                `${pad(now, 15)}|${dl}`,
                now,
                it.id,
                it.g,
                it.i,
                row.l,
                it.tin ?? '',
                it.tg ?? '{}',
                it.hs === undefined ? '' : String(it.hs),
                it.rs ?? '',
                row.at,
                record?.e ?? '{}'
              ]
            )
            await client.query(`UPDATE ${s}.records SET d = d + 1 WHERE idg = $1`, [idg])
            reply = dl
          }
        }
        await client.query(
          `UPDATE ${s}.results SET st = $3, hs = $4, na = $5, dl = $6, detail = $7 WHERE idg = $1 AND i = $2`,
          [idg, it.i, st, it.hs ?? null, na, dl, it.dt ?? null]
        )
        if (it.st && it.o !== 'delivered')
          for (const write of it.st)
            await client.query(
              `INSERT INTO ${s}.state VALUES ($1, $2, $3, $4) ON CONFLICT (idg, i, k) DO UPDATE SET v = $4`,
              [idg, it.i, write.k, write.v]
            )
        replies.push(reply)
      }
      return replies
    })
  }

  async replay(items: readonly { readonly lt: string; readonly j: string }[], now: number): Promise<number[]> {
    return this.tx(async (client) => {
      const replies: number[] = []
      for (const it of items) replies.push(await this.replayLetter(client, it.lt, now, it.j))
      return replies
    })
  }

  private async dropRecord(client: PoolClient, idg: string): Promise<number> {
    const s = this.s
    const gone = (
      await client.query<{ id: string; g: string }>(`DELETE FROM ${s}.records WHERE idg = $1 RETURNING id, g`, [idg])
    ).rows[0]
    if (!gone) return 0
    await client.query(`DELETE FROM ${s}.results WHERE idg = $1`, [idg])
    await client.query(`DELETE FROM ${s}.state WHERE idg = $1`, [idg])
    await client.query(`DELETE FROM ${s}.cur WHERE id = $1 AND g = $2`, [gone.id, gone.g])
    return 1
  }

  async purge(records: readonly string[]) {
    const s = this.s
    return this.tx(async (client) => {
      await this.lockEvents(
        client,
        records.map((idg) => idg.slice(0, idg.lastIndexOf('|')))
      )
      let events = 0
      let deliveries = 0
      let deadLetters = 0
      for (const idg of records) {
        const record = (
          await client.query<{ n: number; p: number; s: number }>(`SELECT n, p, s FROM ${s}.records WHERE idg = $1`, [
            idg
          ])
        ).rows[0]
        if (!record) continue
        for (const row of (await client.query<ResultRow>(`SELECT * FROM ${s}.results WHERE idg = $1`, [idg])).rows) {
          if (row.dl !== null)
            deadLetters += (await client.query(`DELETE FROM ${s}.letters WHERE lid = $1`, [row.dl])).rowCount ?? 0
          await client.query(`DELETE FROM ${s}.due WHERE lane = $1 AND job = $2`, [row.l, row.j])
        }
        if (record.s === 1) await this.addBacklog(client, -record.p)
        await this.dropRecord(client, idg)
        events += 1
        deliveries += record.n
      }
      return { events, deliveries, deadLetters }
    })
  }

  async dropLetters(ids: readonly string[]) {
    const s = this.s
    return this.tx(async (client) => {
      let letters = 0
      let events = 0
      for (const lid of ids) {
        const letter = (
          await client.query<{ id: string; g: string }>(`DELETE FROM ${s}.letters WHERE lid = $1 RETURNING id, g`, [
            lid
          ])
        ).rows[0]
        if (!letter) continue
        letters += 1
        const idg = `${letter.id}|${letter.g}`
        const record = (
          await client.query<{ p: number; d: number }>(
            `UPDATE ${s}.records SET d = d - 1 WHERE idg = $1 RETURNING p, d`,
            [idg]
          )
        ).rows[0]
        if (record && record.d <= 0 && record.p <= 0) events += await this.dropRecord(client, idg)
      }
      return { letters, events }
    })
  }

  async dropRecords(records: readonly string[]): Promise<number> {
    return this.tx(async (client) => {
      let dropped = 0
      for (const idg of records) dropped += await this.dropRecord(client, idg)
      return dropped
    })
  }

  async importLetters(items: readonly ImportItem[]): Promise<number> {
    const s = this.s
    return this.tx(async (client) => {
      let added = 0
      for (const it of items) {
        const known = await client.query(`SELECT 1 FROM ${s}.letters WHERE lid = $1`, [it.lid])
        if ((known.rowCount ?? 0) > 0) continue
        const g = (await client.query<{ g: string }>(`SELECT nextval('${s}.gen') AS g`)).rows[0]?.g ?? ''
        const idg = `${it.id}|${g}`
        await client.query(
          `INSERT INTO ${s}.records (idg, id, g, s, a, rc, e, t, n, p, d, u, an) VALUES ($1, $2, $3, 1, $4, $5, $6, $7, 1, 0, 1, $8, $9)`,
          [idg, it.id, g, it.at, it.rc, it.e, it.t, it.u ?? null, it.an ?? null]
        )
        await client.query(
          `INSERT INTO ${s}.results (idg, i, st, at, hs, dl, j, l, detail) VALUES ($1, 0, 'x', $2, $3, $4, $5, $6, $7)`,
          [idg, it.att, it.hs ?? null, it.lid, `${it.h}-${g}`, it.l, it.dt]
        )
        await client.query(`INSERT INTO ${s}.cur VALUES ($1, $2) ON CONFLICT DO NOTHING`, [it.id, g])
        await client.query(`INSERT INTO ${s}.letters VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8, $9, $10, $11, $12)`, [
          it.lid,
          `${pad(it.at, 15)}|${it.lid}`,
          it.at,
          it.id,
          g,
          it.l,
          it.tin,
          it.tg,
          it.hs === undefined ? '' : String(it.hs),
          it.rs,
          it.att,
          it.e
        ])
        await client.query(`INSERT INTO ${s}.lanes VALUES ($1) ON CONFLICT DO NOTHING`, [it.l])
        added += 1
      }
      return added
    })
  }

  async backlog(): Promise<number> {
    const rows = await this.read<{ v: string }>(`SELECT v FROM ${this.s}.counters WHERE k = 'backlog'`)
    return Number(rows[0]?.v ?? 0)
  }

  async counts() {
    const s = this.s
    const [backlog, oldest, byInstance] = await Promise.all([
      this.backlog(),
      this.read<{ at: string | null }>(`SELECT min(rc) AS at FROM ${s}.records WHERE s = 1 AND p > 0`),
      this.read<{ inst: string; count: string }>(`SELECT inst, count(*) AS count FROM ${s}.letters GROUP BY inst`)
    ])
    const deadLettersByInstance: Record<string, number> = {}
    let deadLetters = 0
    for (const row of byInstance) {
      deadLettersByInstance[row.inst] = Number(row.count)
      deadLetters += Number(row.count)
    }
    const at = oldest[0]?.at
    return {
      backlog,
      oldestPendingAt: at === null || at === undefined ? undefined : Number(at),
      deadLetters,
      deadLettersByInstance
    }
  }

  async retriesDue(lane: string, now: number, limit: number): Promise<string[]> {
    const rows = await this.read<{ job: string }>(
      `SELECT job FROM ${this.s}.due WHERE lane = $1 AND retry AND at <= $2 ORDER BY at, ord LIMIT $3`,
      [lane, now, limit]
    )
    return rows.map((row) => row.job)
  }

  async nextDue(lane: string): Promise<number | undefined> {
    const rows = await this.read<{ at: string | null }>(`SELECT min(at) AS at FROM ${this.s}.due WHERE lane = $1`, [
      lane
    ])
    const at = rows[0]?.at
    return at === null || at === undefined ? undefined : Number(at)
  }

  async addDue(lane: string, jobId: string, at: number): Promise<void> {
    await this.read(
      `INSERT INTO ${this.s}.due VALUES ($1, $2, $3, false) ON CONFLICT (lane, job) DO UPDATE SET at = $3, retry = false`,
      [lane, jobId, at]
    )
  }

  async current(eventId: string): Promise<string | undefined> {
    const rows = await this.read<{ g: string }>(`SELECT g FROM ${this.s}.cur WHERE id = $1`, [eventId])
    return rows[0]?.g
  }

  async record(id: string): Promise<Record<string, string>> {
    const s = this.s
    const record = (
      await this.read<{ rc: string; t: string }>(`SELECT rc, t FROM ${s}.records WHERE idg = $1`, [id])
    )[0]
    if (!record) return {}
    const fields: Record<string, string> = { rc: String(record.rc), t: record.t }
    for (const row of await this.read<ResultRow>(`SELECT * FROM ${s}.results WHERE idg = $1`, [id])) {
      fields[`r:${row.i}`] = JSON.stringify(storedOf(row))
      if (row.detail !== null) fields[`d:${row.i}`] = row.detail
    }
    return fields
  }

  async letterKeys(before: string | undefined, count: number): Promise<string[]> {
    const rows = await this.read<{ m: string }>(
      `SELECT m FROM ${this.s}.letters WHERE $1::text IS NULL OR m < $1 ORDER BY m DESC LIMIT $2`,
      [before ?? null, count]
    )
    return rows.map((row) => row.m)
  }

  async lettersOlderThan(at: number, count: number): Promise<string[]> {
    const rows = await this.read<{ m: string }>(`SELECT m FROM ${this.s}.letters WHERE m < $1 ORDER BY m LIMIT $2`, [
      `${pad(at, 15)}|`,
      count
    ])
    return rows.map((row) => row.m)
  }

  async oldestLetters(count: number): Promise<string[]> {
    const rows = await this.read<{ m: string }>(`SELECT m FROM ${this.s}.letters ORDER BY m LIMIT $1`, [count])
    return rows.map((row) => row.m)
  }

  async letterCount(): Promise<number> {
    const rows = await this.read<{ count: string }>(`SELECT count(*) AS count FROM ${this.s}.letters`)
    return Number(rows[0]?.count ?? 0)
  }

  async letters(ids: readonly string[]): Promise<(Record<string, string> | undefined)[]> {
    const rows = await this.read<{
      lid: string
      m: string
      at: string
      id: string
      g: string
      i: number
      l: string
      inst: string
      tg: string
      hs: string
      rs: string
      att: number
      e: string
    }>(`SELECT * FROM ${this.s}.letters WHERE lid = ANY($1::text[])`, [ids])
    const byId = new Map(rows.map((row) => [row.lid, row]))
    return ids.map((id) => {
      const row = byId.get(id)
      return row
        ? {
            m: row.m,
            at: String(row.at),
            id: row.id,
            g: row.g,
            i: String(row.i),
            l: row.l,
            in: row.inst,
            tg: row.tg,
            hs: row.hs,
            rs: row.rs,
            att: String(row.att),
            e: row.e
          }
        : undefined
    })
  }

  async doneBefore(at: number, count: number): Promise<string[]> {
    const rows = await this.read<{ idg: string }>(
      `SELECT idg FROM ${this.s}.records WHERE done_at IS NOT NULL AND done_at <= $1 ORDER BY done_at LIMIT $2`,
      [at, count]
    )
    return rows.map((row) => row.idg)
  }

  async oldestDone(count: number): Promise<string[]> {
    const rows = await this.read<{ idg: string }>(
      `SELECT idg FROM ${this.s}.records WHERE done_at IS NOT NULL ORDER BY done_at LIMIT $1`,
      [count]
    )
    return rows.map((row) => row.idg)
  }

  async doneCount(): Promise<number> {
    const rows = await this.read<{ count: string }>(
      `SELECT count(*) AS count FROM ${this.s}.records WHERE done_at IS NOT NULL`
    )
    return Number(rows[0]?.count ?? 0)
  }

  async pruneDedupe(at: number): Promise<number> {
    return this.tx(
      async (client) => (await client.query(`DELETE FROM ${this.s}.dedupe WHERE at <= $1`, [at])).rowCount ?? 0
    )
  }

  async userRecords(userId: string | undefined, anonymousIds: readonly string[]): Promise<string[]> {
    const rows = await this.read<{ idg: string }>(
      `SELECT idg FROM ${this.s}.records WHERE ($1::text IS NOT NULL AND u = $1) OR an = ANY($2::text[])`,
      [userId ?? null, anonymousIds]
    )
    return rows.map((row) => row.idg)
  }

  async lanes(): Promise<string[]> {
    return (await this.read<{ lane: string }>(`SELECT lane FROM ${this.s}.lanes`)).map((row) => row.lane)
  }

  async targets(): Promise<string[]> {
    return (await this.read<{ t: string }>(`SELECT t FROM ${this.s}.targets`)).map((row) => row.t)
  }

  async removeTarget(target: string): Promise<void> {
    await this.read(`DELETE FROM ${this.s}.targets WHERE t = $1`, [target])
  }

  async saveDeletion(id: string, json: string): Promise<void> {
    await this.read(`INSERT INTO ${this.s}.deletions VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET body = $2`, [
      id,
      json
    ])
  }

  async deletion(id: string): Promise<string | undefined> {
    return (await this.read<{ body: string }>(`SELECT body FROM ${this.s}.deletions WHERE id = $1`, [id]))[0]?.body
  }

  private get channel(): string {
    return `${this.schemas.records}_work`
  }

  async publish(lanes: Iterable<string>): Promise<void> {
    for (const lane of lanes) await this.read('SELECT pg_notify($1, $2)', [this.channel, lane])
  }

  subscribe(listener: (lane: string) => void): void {
    const listen = async () => {
      if (this.closing) return
      const client = new Client({ connectionString: this.url })
      client.on('notification', (message) => {
        if (message.payload) listener(message.payload)
      })
      client.on('error', () => {
        if (this.listener === client) this.listener = undefined
        void client.end().catch(() => undefined)
        setTimeout(() => void listen().catch(() => undefined), 1000).unref()
      })
      try {
        await client.connect()
        await client.query(`LISTEN "${this.channel}"`)
        this.listener = client
      } catch {
        void client.end().catch(() => undefined)
        setTimeout(() => void listen().catch(() => undefined), 1000).unref()
      }
    }
    void listen()
  }
}
