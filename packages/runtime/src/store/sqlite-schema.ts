import type { Database } from 'better-sqlite3'

/** Delivery states as stored (integers keep rows and indexes small). */
export const State = { pending: 0, inFlight: 1, delivered: 2, dead: 3 } as const

/**
 * The schema, one migration per version (`PRAGMA user_version`). Migrations only ever append: a released version's
 * migration is never edited, so a state directory from any earlier release opens and upgrades in place.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at INTEGER NOT NULL
  );
  CREATE INDEX events_by_id ON events (event_id);
  CREATE INDEX events_by_received ON events (received_at);

  CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    event_seq INTEGER NOT NULL,
    instance TEXT NOT NULL,
    integration TEXT NOT NULL,
    action TEXT NOT NULL,
    subscription TEXT NOT NULL,
    state INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    available_at INTEGER NOT NULL,
    budget_start INTEGER NOT NULL,
    http_status INTEGER,
    detail TEXT,
    settled_at INTEGER
  );
  CREATE INDEX deliveries_due ON deliveries (instance, available_at) WHERE state = 0;
  CREATE INDEX deliveries_by_event ON deliveries (event_seq);
  CREATE INDEX deliveries_unsettled_age ON deliveries (budget_start) WHERE state < 2;
  CREATE INDEX deliveries_delivered_age ON deliveries (settled_at) WHERE state = 2;

  CREATE TABLE dead_letters (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    delivery_id INTEGER NOT NULL UNIQUE,
    at INTEGER NOT NULL,
    status INTEGER,
    reason TEXT NOT NULL,
    attempts INTEGER NOT NULL
  );
  CREATE INDEX dead_letters_at ON dead_letters (at);

  CREATE TABLE dedupe (
    event_id TEXT PRIMARY KEY,
    event_seq INTEGER NOT NULL,
    seen_at INTEGER NOT NULL
  );
  CREATE INDEX dedupe_seen ON dedupe (seen_at);

  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  // 2: per-delivery state for actions-core's stateContext (what an attempt leaves for the next attempt of the same event).
  `
  CREATE TABLE delivery_state (
    delivery_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (delivery_id, key)
  ) WITHOUT ROWID;
  CREATE INDEX delivery_state_expiry ON delivery_state (expires_at);
  `,
  // 3: outcomes of user deletion requests (no user id in them).
  `
  CREATE TABLE deletions (
    id TEXT PRIMARY KEY,
    at INTEGER NOT NULL,
    record TEXT NOT NULL
  );
  `
]

export const SCHEMA_VERSION = MIGRATIONS.length

/** Brings a database to the current schema; refuses one written by a newer release. */
export function migrate(db: Database): void {
  const version = db.pragma('user_version', { simple: true }) as number
  if (version > SCHEMA_VERSION)
    throw new Error(
      `the state was written by a newer open-actions (schema ${version}; this release knows up to ${SCHEMA_VERSION}): upgrade, or use another stateDir`
    )
  for (let next = version; next < SCHEMA_VERSION; next += 1) {
    db.transaction(() => {
      db.exec(MIGRATIONS[next] ?? '')
      db.pragma(`user_version = ${next + 1}`)
    })()
  }
}
