import { afterAll, beforeAll } from '@jest/globals'
import { type RedisServer, startRedisServer } from '@open-actions/testing/servers'
import { RedisStore } from './redis-store'
import type { BullMqStoreOptions } from './bullmq-store'
import { bullMqHarness, describeSharedStore } from './shared-store.test-helpers'
import { describeStoreContract } from './store-contract.test-helpers'

let server: RedisServer

beforeAll(async () => {
  server = await startRedisServer()
})

afterAll(async () => {
  await server.dispose()
})

const open = (options: BullMqStoreOptions) => RedisStore.open({ url: server.url, ...options })

describeStoreContract('redis (BullMQ)', bullMqHarness(open))

describeSharedStore('Redis', open)
