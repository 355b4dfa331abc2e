import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import type { JSONObject } from '@segment/actions-core'
import * as events from '@open-actions/testing/events'
import { type HttpsSink, startHttpsSink, TEST_CA_FILE } from '@open-actions/testing/https-sink'
import { type RuntimeConfigInput, resolveConfig } from './config'
import { npmInstall, npmPack } from './npm-install.test-helpers'
import { launchChromium } from './browser.test-helpers'
import { actionsCoreFor, OWN_ACTIONS_CORE } from './packages'
import { call, configProblems, getJson, postJson, startTestRuntime } from './runtime-harness.test-helpers'
import { registry, type StartedRuntime } from './start'
import type { EventResult } from './store/results'

/*
 * A destination published outside the workspace: test-fixtures/foreign-destination, packed with `npm pack` and
 * installed with npm into a folder under the system's temporary directory, where it gets its own copy of
 * @segment/actions-core from npm. The runtime loads it by path.
 */

const FIXTURE = join(__dirname, '..', 'test-fixtures', 'foreign-destination')
let packageDir: string
let sink: HttpsSink
let running: (StartedRuntime & { logs: string[] }) | undefined

/** What a team installing a third-party destination next to its configuration does (see the runtime's README). */
const PIN_FAST_URI = { 'fast-uri': '3.1.5' }
const installedAt = (folder: string) => join(folder, 'node_modules', '@open-actions-fixtures', 'foreign-destination')

beforeAll(() => {
  packageDir = installedAt(npmInstall([npmPack(FIXTURE)], PIN_FAST_URI))
}, 600_000)

beforeAll(async () => {
  sink = await startHttpsSink({ chunked: true })
})

afterEach(async () => {
  await running?.stop()
  running = undefined
})

afterAll(async () => {
  await sink?.close()
})

function foreignInstance(overrides: Record<string, unknown> = {}) {
  return {
    id: 'foreign',
    package: packageDir,
    settings: { endpoint: sink.origin, api_key: 'foreign-api-key-123' },
    ...overrides
  }
}

function live(destinations: readonly unknown[]): Partial<RuntimeConfigInput> {
  return {
    transport: 'live',
    writeKeys: {},
    sources: [],
    destinations: destinations as RuntimeConfigInput['destinations'],
    network: { allowPrivateNetworks: true, caFile: TEST_CA_FILE }
  }
}

const problemsOf = configProblems

describe('a destination loaded from a package with its own actions-core', () => {
  it('runs with the actions-core the package resolves, not the runtime’s', () => {
    const resolved = resolveConfig({ destinations: [foreignInstance()] }, registry)
    const [instance] = resolved.destinations
    expect(instance).toMatchObject({
      id: 'foreign',
      origin: 'package',
      integration: packageDir,
      definitionKey: 'default'
    })
    const kit = actionsCoreFor(instance?.definition ?? {})
    expect(kit.own).toBe(false)
    expect(kit.file.startsWith(join(packageDir, '..', '..'))).toBe(true)
    expect(kit.Destination).not.toBe(OWN_ACTIONS_CORE.Destination)
    expect(resolved.packages.map((entry) => [entry.slug, entry.packageName, entry.version])).toStrictEqual([
      [packageDir, '@open-actions-fixtures/foreign-destination', '1.2.3']
    ])
  })

  it('reports a batch item the package refuses as failed (its MultiStatusResponse is its own copy’s)', async () => {
    const resolved = resolveConfig({ destinations: [foreignInstance()] }, registry)
    const definition = resolved.destinations[0]?.definition
    if (!definition) throw new Error('not loaded')
    const batch = [
      events.trackEvent('Kept', {}, { messageId: 'mb-1' }),
      events.trackEvent('Refused', { fail: true }, { messageId: 'mb-2' })
    ]
    const settings = {
      endpoint: 'https://foreign.invalid',
      api_key: 'k',
      subscriptions: [
        {
          partnerAction: 'send',
          subscribe: 'type = "track"',
          mapping: { event: { '@path': '$.event' }, fail: { '@path': '$.properties.fail' }, enable_batching: true }
        }
      ]
    } as unknown as JSONObject
    // What goes wrong with the runtime's copy: the package's MultiStatusResponse is not an instance of it, so the batch
    // looks like one opaque success and the refused item would be reported delivered.
    const wrong = await new OWN_ACTIONS_CORE.Destination(definition).onBatch(batch, settings).catch(() => [])
    expect(wrong.some((result) => result.multistatus !== undefined)).toBe(false)

    running = await startTestRuntime({
      ...live([foreignInstance({ subscriptions: (settings as { subscriptions: unknown }).subscriptions })]),
      batching: { maxEvents: 10, maxBytes: 1024 * 1024, maxWaitMs: 50 }
    })
    const before = sink.requests.length
    expect((await postJson(`${running.url}/v1/events`, batch)).status).toBe(202)
    await running.runtime.drain()
    const status = async (id: string) =>
      ((await getJson(`${running?.url}/v1/events/${id}`)).body as EventResult).targets
    expect(await status('mb-1')).toMatchObject([{ instance: 'foreign', status: 'delivered' }])
    expect(await status('mb-2')).toMatchObject([
      { instance: 'foreign', status: 'dead_lettered', httpStatus: 400, detail: 'item 1 is refused' }
    ])
    const arrived = sink.requests.slice(before)
    expect(arrived.map((request) => `${request.method} ${request.path}`)).toStrictEqual(['POST /batch'])
    expect(arrived[0]?.headers['x-api-key']).toBe('foreign-api-key-123')
    expect(JSON.parse(arrived[0]?.body ?? '{}')).toStrictEqual({
      items: [{ event: 'Kept', enable_batching: true }]
    })
  })

  it('classifies the package’s own errors by name, status and code: a 400 is dead-lettered at once, a retryable retried', async () => {
    running = await startTestRuntime(live([foreignInstance()]))
    const invalid = events.trackEvent('Bad', { outcome: 'invalid' }, { messageId: 'err-invalid' })
    const later = events.trackEvent('Busy', { outcome: 'later' }, { messageId: 'err-later' })
    const fine = events.trackEvent('Fine', {}, { messageId: 'err-fine' })
    expect((await postJson(`${running.url}/v1/events`, [invalid, later, fine])).status).toBe(202)
    await running.runtime.drain()
    const target = async (id: string) =>
      ((await getJson(`${running?.url}/v1/events/${id}`)).body as EventResult).targets[0]
    expect(await target('err-invalid')).toMatchObject({
      status: 'dead_lettered',
      attempts: 1,
      httpStatus: 400,
      detail: 'the endpoint refuses this event'
    })
    const retried = await target('err-later')
    expect(retried).toMatchObject({ status: 'dead_lettered', httpStatus: 503 })
    expect(retried?.attempts).toBe(4)
    expect(await target('err-fine')).toMatchObject({ status: 'delivered', attempts: 1 })
    const lists = (await getJson(`${running.url}/v1/instances`)).body as {
      destinations: { id: string; origin: string; client: string }[]
    }
    expect(lists.destinations).toStrictEqual([
      expect.objectContaining({ id: 'foreign', origin: 'package', client: 'actions-core' })
    ])
    expect(running.logs.join('\n')).not.toContain('foreign-api-key-123')
  })

  it('is listed in the catalog, runs in the sandbox against the recording simulator, and takes deletion requests', async () => {
    running = await startTestRuntime({
      writeKeys: {},
      sources: [],
      destinations: [
        foreignInstance({ settings: { endpoint: 'https://api.foreign.example', api_key: 'foreign-api-key-123' } }),
        {
          id: 'tray',
          integration: 'tray',
          settings: { workflows: ['https://0d4f2a1e-sandbox-one.trayapp.io'] }
        }
      ]
    })
    const catalog = (await getJson(`${running.url}/v1/catalog`)).body as {
      integrations: { slug: string; packageName: string; destinations: { key: string; name: string }[] }[]
    }
    expect(catalog.integrations.find((entry) => entry.slug === packageDir)).toMatchObject({
      packageName: '@open-actions-fixtures/foreign-destination',
      destinations: [{ key: 'default', name: 'Foreign Fixture' }]
    })
    const identity = { userId: 'delete-me', anonymousId: 'anon-delete-me' }
    const sent = [
      events.trackEvent('Sandboxed', {}, { messageId: 'del-1', ...identity }),
      events.trackEvent('Sandboxed', { outcome: 'invalid' }, { messageId: 'del-2', ...identity }),
      events.trackEvent('Other user', {}, { messageId: 'del-3', userId: 'keep-me', anonymousId: 'anon-keep' })
    ]
    expect((await postJson(`${running.url}/v1/events`, sent)).status).toBe(202)
    await running.runtime.drain()
    const recorded = running.runtime.recorder.list({ instance: 'foreign', eventId: 'del-1' })
    expect(recorded.map((record) => [record.method, record.url, record.response])).toStrictEqual([
      [
        'POST',
        'https://api.foreign.example/events',
        // Through actions-core's own client (the package's copy) the recorder sees the status, not the body.
        expect.objectContaining({ status: 200 })
      ]
    ])
    expect(recorded[0]?.headers['x-api-key']).toBe('[REDACTED]')

    const deletion = await postJson(`${running.url}/v1/deletions`, {
      userId: 'delete-me',
      anonymousIds: ['anon-delete-me']
    })
    expect(deletion.status).toBe(200)
    const record = deletion.body as { id: string; instances: unknown; purged: unknown; userIdSha256: string }
    expect(record.instances).toStrictEqual([
      { instance: 'foreign', status: 'deleted' },
      { instance: 'tray', status: 'deleted' }
    ])
    expect(record.purged).toStrictEqual({ events: 2, deliveries: 4, deadLetters: 1 })
    expect(record.userIdSha256).toMatch(/^[0-9a-f]{64}$/)
    expect(JSON.stringify(record)).not.toContain('delete-me')
    expect((await getJson(`${running.url}/v1/deletions/${record.id}`)).body).toStrictEqual(record)
    // Gone from the store, from captured requests and from dead letters; the other user stays.
    expect((await getJson(`${running.url}/v1/events/del-1`)).status).toBe(404)
    expect((await getJson(`${running.url}/v1/events/del-2`)).status).toBe(404)
    expect((await getJson(`${running.url}/v1/events/del-3`)).status).toBe(200)
    expect((await running.runtime.deadLetters({ limit: 10 })).deadLetters).toStrictEqual([])
    const after = running.runtime.recorder.list({ limit: 1000 })
    expect(after.filter((entry) => entry.eventIds.includes('del-1'))).toStrictEqual([])
    // The deletion requests went out: the package's onDelete, and Tray's to its workflow.
    expect(
      after
        .filter((entry) => entry.action === 'onDelete')
        .map((entry) => `${entry.method} ${entry.url}`)
        .sort()
    ).toStrictEqual([
      'DELETE https://api.foreign.example/users/delete-me',
      'POST https://0d4f2a1e-sandbox-one.trayapp.io/'
    ])
    expect(
      (
        await call(running.url, 'POST', '/v1/deletions', {
          headers: { 'content-type': 'application/json' },
          body: '{}'
        })
      ).status
    ).toBe(400)
  })
})

describe('a package instance in the console (Chromium)', () => {
  it('is in the tester, runs against the sandbox, and is listed with the instances', async () => {
    running = await startTestRuntime({
      writeKeys: {},
      sources: [],
      destinations: [
        foreignInstance({ settings: { endpoint: 'https://api.foreign.example', api_key: 'foreign-api-key-123' } })
      ]
    })
    const browser = await launchChromium()
    try {
      const page = await browser.newPage()
      await page.goto(`${running.url}/`)
      const option = `#tester-destination option[value="${packageDir}/default"]`
      await page.waitForSelector(option, { state: 'attached' })
      expect(await page.locator(option).textContent()).toBe('Foreign Fixture')
      await page.selectOption('#tester-destination', `${packageDir}/default`)
      await page.fill('#setting-endpoint', 'https://api.foreign.example')
      await page.fill('#setting-api_key', 'typed-in-secret-777')
      await page.fill(
        '#tester-event',
        JSON.stringify(events.trackEvent('Console Check', {}, { messageId: 'console-1' }))
      )
      await page.click('#tester-run')
      await page.locator('.subscription.matched').first().waitFor()
      const output = await page.locator('#tester-output').innerText()
      expect(output).toContain('POST https://api.foreign.example/events')
      expect(output).not.toContain('typed-in-secret-777')
      await page.click('nav button[data-tab="instances"]')
      const row = page.locator('#instances-table tr[data-instance="foreign"]')
      expect(await row.innerText()).toContain(`${packageDir} / default`)
    } finally {
      await browser.close()
    }
  })
})

describe('configuration of package instances', () => {
  it('names the instance and the problem: not found, no such export, not a destination, bad settings, both or neither', () => {
    expect(problemsOf({ destinations: [{ id: 'x', package: './does-not-exist' }] })).toStrictEqual([
      expect.stringMatching(/^destinations\[0\] "x": package: cannot find package "\.\/does-not-exist" \(/)
    ])
    expect(problemsOf({ destinations: [{ id: 'x', package: packageDir, export: 'nope' }] })).toStrictEqual([
      `destinations[0] "x": package: "${packageDir}" has no export "nope" (its exports: default, destination, notADestination)`
    ])
    expect(problemsOf({ destinations: [{ id: 'x', package: packageDir, export: 'notADestination' }] })).toStrictEqual([
      `destinations[0] "x": package: the export "notADestination" of "${packageDir}" is not an actions-core destination definition: its mode is undefined, not "cloud" (device mode cannot run on a server)`
    ])
    expect(
      problemsOf({
        destinations: [{ id: 'x', package: packageDir, export: 'destination', settings: { api_key: 'k' } }]
      })
    ).toStrictEqual([expect.stringMatching(/^destinations\[0\] "x": settings: .*endpoint/)])
    expect(problemsOf({ destinations: [{ id: 'x', package: packageDir, integration: 'tray' }] })).toStrictEqual([
      'destinations[0].integration: name either a bundled "integration" or a "package", not both and not neither'
    ])
    expect(problemsOf({ destinations: [{ id: 'x' }] })).toStrictEqual([
      'destinations[0].integration: name either a bundled "integration" or a "package", not both and not neither'
    ])
  })

  it('explains actions-core’s settings failure under fast-uri 3.1.6+ when the package’s copy is not pinned', () => {
    const unpinned = installedAt(npmInstall([npmPack(FIXTURE)]))
    expect(
      problemsOf({
        destinations: [{ id: 'x', package: unpinned, settings: { endpoint: 'https://a.example', api_key: 'k' } }]
      })
    ).toStrictEqual([
      'destinations[0] "x": settings: URI scheme is malformed. (the actions-core copy this definition runs with uses fast-uri 3.1.6 or later, which fails every destination whose name has a space: pin "fast-uri": "3.1.5" with npm "overrides" where the package is installed)'
    ])
  }, 600_000)

  it('loads an ES module package (default and named exports) where Node.js requires ES modules: the CLI, for real', () => {
    // Jest's own module system cannot require ES modules, so the runtime's CLI runs it in a real Node.js process.
    const folder = mkdtempSync(join(tmpdir(), 'esm-destination-'))
    writeFileSync(
      join(folder, 'package.json'),
      JSON.stringify({ name: 'esm-destination', version: '2.0.0', type: 'module' })
    )
    writeFileSync(
      join(folder, 'index.js'),
      [
        'const send = (host) => ({',
        "  title: 'Send', description: 'Sends.', fields: {},",
        "  perform: (request) => request(`https://${host}/hook`, { method: 'POST', json: { from: host } })",
        '})',
        "export const named = { name: 'ESM Named', mode: 'cloud', actions: { send: send('named.esm.example') } }",
        "export default { name: 'ESM Default', mode: 'cloud', actions: { send: send('default.esm.example') } }"
      ].join('\n')
    )
    const subscriptions = [{ partnerAction: 'send', subscribe: 'type = "track"' }]
    writeFileSync(
      join(folder, 'runtime.json'),
      JSON.stringify({
        destinations: [
          { id: 'esm-default', package: '.', subscriptions },
          { id: 'esm-named', package: '.', export: 'named', subscriptions }
        ]
      })
    )
    writeFileSync(join(folder, 'event.json'), JSON.stringify(events.trackEvent('Esm', {}, { messageId: 'esm-1' })))
    const output = execFileSync(
      process.execPath,
      [
        join(__dirname, '..', 'dist', 'cli.js'),
        'send',
        join(folder, 'event.json'),
        '--config',
        join(folder, 'runtime.json')
      ],
      { encoding: 'utf8' }
    )
    const { results, requests } = JSON.parse(output) as {
      results: EventResult[]
      requests: { instance: string; method: string; url: string; body: unknown }[]
    }
    expect(results[0]?.targets.map((target) => [target.instance, target.status])).toStrictEqual([
      ['esm-default', 'delivered'],
      ['esm-named', 'delivered']
    ])
    expect(requests.map(({ instance, method, url, body }) => ({ instance, method, url, body }))).toStrictEqual([
      {
        instance: 'esm-default',
        method: 'POST',
        url: 'https://default.esm.example/hook',
        body: { from: 'default.esm.example' }
      },
      {
        instance: 'esm-named',
        method: 'POST',
        url: 'https://named.esm.example/hook',
        body: { from: 'named.esm.example' }
      }
    ])
  })

  it('finds a relative path from the configuration file’s folder', () => {
    const file = join(packageDir, '..', 'runtime.json')
    writeFileSync(file, '{}')
    const resolved = resolveConfig(
      {
        destinations: [
          foreignInstance({
            package: './foreign-destination',
            settings: { endpoint: 'https://a.example', api_key: 'k' }
          })
        ]
      },
      registry,
      file
    )
    expect(resolved.destinations[0]?.integration).toBe(join(packageDir, '..', 'foreign-destination'))
  })
})
