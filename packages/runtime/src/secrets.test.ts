import { existsSync, readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
// The factories alone: the package index loads nock, which patches http.ClientRequest and would bypass the runtime's agents.
import * as events from '@open-actions/testing/events'
import { postJson } from './runtime-harness.test-helpers'
import { resolveConfig } from './config'
import { registry, startRuntime, type StartedRuntime } from './start'
import { SqliteStore } from './store/sqlite-store'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/*
 * Sentinel secrets in every secret setting, then every surface the runtime has is scanned for them: logs,
 * recorded requests, dead letters (API and file), metrics, results, the event tester and the web page.
 * Vendors that echo a credential back in an error are simulated too.
 */
const SENTINELS = {
  insider: 'SENTINEL-insider-0f9e8d',
  moengage: 'SENTINEL-moengage-1a2b3c',
  onesignal: 'SENTINEL-onesignal-4d5e6f',
  segment: 'SENTINEL-segment-7a8b9c',
  tray: 'SENTINEL-tray-secret-0a1b2c',
  onesignalSource: 'SENTINEL-os-source-3d4e5f',
  oneCreationKey: 'SENTINEL-oc-write-6a7b8c',
  oneCreationToken: 'SENTINEL-oc-token-9d0e1f',
  typedIn: 'SENTINEL-typed-in-2b3c4d'
}

let started: StartedRuntime
const logs: string[] = []

beforeAll(async () => {
  const resolved = resolveConfig(
    {
      stateDir: join(mkdtempSync(join(tmpdir(), 'open-actions-secrets-')), 'state'),
      delivery: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
      batching: { maxEvents: 50, maxBytes: 1048576, maxWaitMs: 10 },
      destinations: [
        { id: 'insider', integration: 'insider', settings: { account_name: 'store', ucd_key: SENTINELS.insider } },
        {
          id: 'moengage',
          integration: 'moengage',
          settings: { api_id: 'WS1', api_key: SENTINELS.moengage, region: 'DC_01' }
        },
        {
          id: 'onesignal',
          integration: 'onesignal',
          settings: { app_id: '00000000-0000-4000-8000-000000000001', api_key: SENTINELS.onesignal }
        },
        { id: 'segment', integration: 'segment', settings: { write_key: SENTINELS.segment, region: 'us' } },
        {
          id: 'tray',
          integration: 'tray',
          settings: { workflows: ['https://sentinel.trayapp.io'], shared_secret: SENTINELS.tray }
        }
      ],
      sources: [
        { id: 'onesignal', integration: 'onesignal', settings: { write_key: SENTINELS.onesignalSource } },
        {
          id: 'one-creation',
          integration: 'one-creation',
          settings: { write_key: SENTINELS.oneCreationKey, access_token: SENTINELS.oneCreationToken, space_id: 'spa_1' }
        }
      ],
      sandbox: {
        faults: [
          // Vendors that echo the credential they refused, in the body and in a header value.
          {
            host: 'api.onesignal.com',
            status: 401,
            body: { errors: [`Invalid key ${SENTINELS.onesignal}`] },
            times: 1
          },
          {
            host: 'api-01.moengage.com',
            status: 400,
            body: { status: 'fail', error: { message: `bad key ${SENTINELS.moengage}`, type: 'Bad Request' } },
            times: 1
          }
        ]
      }
    },
    registry
  )
  started = await startRuntime({ resolved, port: 0, logLevel: 'debug', logWrite: (line) => logs.push(line) })
  await postJson(`${started.url}/v1/events`, [
    events.identifyEvent({ messageId: 'secrets-1' }),
    events.trackEvent('Secret Test', {}, { messageId: 'secrets-2' })
  ])
  await postJson(`${started.url}/v1/sources/onesignal`, {
    event: { kind: 'message.push.sent', id: 'e-1' },
    user: { external_id: 'u-1' }
  })
  await postJson(`${started.url}/v1/sources/one-creation`, {
    type: 'submitted',
    response_id: 'r',
    user_id: 'u',
    campaign: { id: 'c', name: 'n' },
    response_at: '2024-05-01T12:00:00Z',
    answers: { q: 'a' }
  })
  await postJson(`${started.url}/v1/test`, {
    integration: 'segment',
    settings: { write_key: SENTINELS.typedIn, region: 'us' },
    event: events.trackEvent('Typed')
  })
  await started.runtime.drain()
})

afterAll(async () => {
  await started.stop()
})

function basicForms(): string[] {
  return [
    Buffer.from(`WS1:${SENTINELS.moengage}`).toString('base64'),
    Buffer.from(`${SENTINELS.segment}:`).toString('base64'),
    Buffer.from(`${SENTINELS.onesignalSource}:`).toString('base64'),
    Buffer.from(`${SENTINELS.oneCreationKey}:`).toString('base64')
  ]
}

function hits(text: string): string[] {
  return [...Object.values(SENTINELS), ...basicForms()].filter((secret) => text.includes(secret))
}

async function text(path: string, init?: RequestInit): Promise<string> {
  return (await fetch(`${started.url}${path}`, init)).text()
}

describe('no secret anywhere the runtime shows things', () => {
  it('the scenario actually exercised failures that echo credentials', async () => {
    const letters = (await started.runtime.deadLetters({ limit: 100 })).deadLetters
    expect(letters.map((letter) => letter.instance).sort()).toStrictEqual(['moengage', 'onesignal'])
    expect(letters.find((letter) => letter.instance === 'moengage')?.reason).toContain('bad key [REDACTED]')
  })

  it.each([
    ['recorded requests', '/v1/deliveries?limit=1000'],
    ['dead letters', '/v1/dead-letters'],
    ['metrics', '/metrics'],
    ['event results', '/v1/events/secrets-1'],
    ['instances', '/v1/instances'],
    ['catalog', '/v1/catalog'],
    ['stats', '/v1/stats'],
    ['web page', '/'],
    ['web page script', '/app.js'],
    ['health', '/health']
  ])('%s: zero hits', async (_name, path) => {
    expect(hits(await text(path))).toStrictEqual([])
  })

  it('logs, the store on disk and the event tester: zero hits', async () => {
    expect(logs.length).toBeGreaterThan(5)
    expect(hits(logs.join('\n'))).toStrictEqual([])
    await started.runtime.store.flushSettlements()
    const { store } = started.runtime
    if (!(store instanceof SqliteStore)) throw new Error('this test reads the embedded store')
    const onDisk = ['state.db', 'state.db-wal']
      .map((file) => join(store.files.stateDir, file))
      .filter((file) => existsSync(file))
      .map((file) => readFileSync(file).toString('latin1'))
      .join('')
    expect(onDisk).toContain('bad key [REDACTED]')
    expect(hits(onDisk)).toStrictEqual([])
    const tester = await text('/v1/test', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        integration: 'segment',
        settings: { write_key: SENTINELS.typedIn, region: 'us' },
        event: events.trackEvent('Typed')
      })
    })
    expect(tester).toContain('[REDACTED]')
    expect(hits(tester)).toStrictEqual([])
  })
})
