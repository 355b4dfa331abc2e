import { BullMqStore, type BullMqStoreOptions } from './bullmq-store'
import { RedisRecords } from './redis-records'

export { ConfigurationMismatchError, jobHashOf, type LaneRateLimit, queueNameOf } from './bullmq-store'

export interface RedisStoreOptions extends BullMqStoreOptions {
  /** `redis://[:password@]host:port[/db]` (or `rediss://`). */
  readonly url: string
}

/**
 * The delivery store on Redis (6.2+, managed Redis and Redis Cluster too): BullMQ's Redis backend for the jobs, and
 * the records beside them in Redis hashes written by scripts (`RedisRecords`).
 */
export class RedisStore extends BullMqStore {
  static async open(options: RedisStoreOptions): Promise<RedisStore> {
    return BullMqStore.started(
      new RedisStore(new RedisRecords(options.url, options.namespace ?? 'open-actions'), options)
    )
  }
}
