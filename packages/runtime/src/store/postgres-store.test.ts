import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { type PostgresServer, startPostgresServer } from '@open-actions/testing/servers'
import { schemasOf } from './postgres-records'
import { PostgresStore } from './postgres-store'
import type { BullMqStoreOptions } from './bullmq-store'
import { bullMqHarness, describeSharedStore } from './shared-store.test-helpers'
import { describeStoreContract } from './store-contract.test-helpers'

let server: PostgresServer

beforeAll(async () => {
  server = await startPostgresServer()
}, 60_000)

afterAll(async () => {
  await server.dispose()
})

const open = (options: BullMqStoreOptions) => PostgresStore.open({ url: server.url, ...options })

describeStoreContract('postgresql (BullMQ)', bullMqHarness(open))

describeSharedStore('PostgreSQL', open)

describe('the PostgreSQL store', () => {
  it('keeps a namespace in schemas of its own, named from it', () => {
    expect(schemasOf('Open-Actions.prod')).toStrictEqual({
      records: 'oa_open_actions_prod',
      jobs: 'oa_open_actions_prod_jobs'
    })
  })
})
