import { BullMqStore, type BullMqStoreOptions } from './bullmq-store'
import { PostgresRecords } from './postgres-records'

export interface PostgresStoreOptions extends BullMqStoreOptions {
  /** `postgres://user[:password]@host:port/database` (or `postgresql://`). */
  readonly url: string
}

/**
 * The delivery store on PostgreSQL (13+): BullMQ's PostgreSQL backend for the jobs (`createPostgresBackend`, in
 * schema `oa_<namespace>_jobs`), and the records beside them in tables of schema `oa_<namespace>` (`PostgresRecords`).
 */
export class PostgresStore extends BullMqStore {
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    return BullMqStore.started(
      new PostgresStore(new PostgresRecords(options.url, options.namespace ?? 'open-actions'), options)
    )
  }
}
