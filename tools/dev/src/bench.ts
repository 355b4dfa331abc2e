import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import type { JSONObject, SegmentEvent } from '@segment/actions-core'
import { presetSubscriptions } from '@open-actions/core'
import {
  DeliveryRecorder,
  OpenActionsRuntime,
  type Sandbox,
  startSandbox,
  registry,
  resolveConfig,
  sampleConfig,
  SqliteStore
} from '@open-actions/runtime'
import { execute, matchTargets } from '@open-actions/runtime/internal'
import * as events from '@open-actions/testing/events'
import { startHttpsSink, TEST_CA_FILE } from '@open-actions/testing/https-sink'
import { ToolUsageError, toolArguments } from './cli-args'
import { integrationPackages, REPO_ROOT } from './workspace'

/**
 * `pnpm bench`: events per second (one core, one event at a time), p50/p99 latency, peak memory and requests per
 * 1,000 events for each integration's main paths, through (a) plain actions-core `Destination.onEvent` with the
 * presets, (b) our runtime in sandbox mode and (c) our runtime live against a loopback HTTP sink, next to the floor
 * (a JSON parse + stringify round trip of the same event). Several runs; medians; ratios within one run.
 */
interface Path {
  readonly name: string
  readonly integration: string
  readonly definition?: string
  readonly settings: JSONObject
  readonly event: (index: number) => SegmentEvent
}

const SINK_WORKFLOWS = 3

/** Every benchmarked event gets its own messageId: Tray rightly skips a workflow that already has a message. */
let sequence = 0
const nextId = () => `bench-${(sequence += 1)}`

const PATHS: Path[] = [
  {
    name: 'Insider Order Completed (3 products)',
    integration: 'insider',
    settings: { account_name: 'benchstore', ucd_key: 'bench-key' },
    event: (index) => events.orderCompletedEvent({ messageId: nextId(), userId: `u-${index % 1000}` })
  },
  {
    name: 'Insider identify',
    integration: 'insider',
    settings: { account_name: 'benchstore', ucd_key: 'bench-key' },
    event: (index) => events.identifyEvent({ messageId: nextId(), userId: `u-${index % 1000}` })
  },
  {
    name: 'MoEngage identify',
    integration: 'moengage',
    settings: { api_id: 'BENCHWS', api_key: 'bench-key', region: 'DC_01' },
    event: (index) => events.identifyEvent({ messageId: nextId(), userId: `u-${index % 1000}` })
  },
  {
    name: 'MoEngage track',
    integration: 'moengage',
    settings: { api_id: 'BENCHWS', api_key: 'bench-key', region: 'DC_01' },
    event: (index) => events.trackEvent('Bench', { n: index }, { messageId: nextId(), userId: `u-${index % 1000}` })
  },
  {
    name: 'OneSignal identify',
    integration: 'onesignal',
    settings: { app_id: '00000000-0000-4000-8000-0000000be4c4', api_key: 'bench-key' },
    event: (index) => events.identifyEvent({ messageId: nextId(), userId: `u-${index % 1000}` })
  },
  {
    name: `Tray track to ${SINK_WORKFLOWS} workflows`,
    integration: 'tray',
    settings: {
      workflows: Array.from({ length: SINK_WORKFLOWS }, (_, index) => `https://bench-${index}.trayapp.io`),
      shared_secret: 'bench-secret'
    },
    event: (index) => events.trackEvent('Bench', { n: index }, { messageId: nextId(), userId: `u-${index % 1000}` })
  },
  {
    name: 'Segment track',
    integration: 'segment',
    settings: { write_key: 'bench-key', region: 'us' },
    event: (index) => events.trackEvent('Bench', { n: index }, { messageId: nextId(), userId: `u-${index % 1000}` })
  }
]

interface Measurement {
  readonly eventsPerSecond: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly peakRssMb: number
  readonly requestsPer1000: number
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? 0
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
}

async function measure(
  count: number,
  requestsSeen: () => number,
  run: (index: number) => Promise<unknown>
): Promise<Measurement> {
  for (let index = 0; index < Math.min(50, count); index += 1) await run(-index - 1)
  const requestsBefore = requestsSeen()
  const latencies: number[] = []
  let peak = process.memoryUsage().rss
  const started = process.hrtime.bigint()
  for (let index = 0; index < count; index += 1) {
    const at = process.hrtime.bigint()
    await run(index)
    latencies.push(Number(process.hrtime.bigint() - at) / 1e6)
    if (index % 100 === 0) peak = Math.max(peak, process.memoryUsage().rss)
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  latencies.sort((a, b) => a - b)
  return {
    eventsPerSecond: Math.round(count / seconds),
    p50Ms: Number(percentile(latencies, 0.5).toFixed(3)),
    p99Ms: Number(percentile(latencies, 0.99).toFixed(3)),
    peakRssMb: Math.round(peak / 1048576),
    requestsPer1000: Math.round(((requestsSeen() - requestsBefore) / count) * 1000)
  }
}

function floor(path: Path, count: number): Promise<Measurement> {
  return measure(
    count,
    () => 0,
    async (index) => JSON.parse(JSON.stringify(path.event(index)))
  )
}

function plainActionsCore(path: Path, count: number, sandbox: Sandbox): Promise<Measurement> {
  const definition = registry.get(path.integration)?.destinations[path.definition ?? 'destination']
  if (!definition) throw new Error(`no ${path.integration} destination`)
  // actions-core's own client, as any actions runtime runs it: one connection per request.
  const destination = sandbox.destination(definition, { client: 'actions-core' })
  const recorder = sandbox.recorder
  const settings = { ...path.settings, subscriptions: presetSubscriptions(definition) as unknown as JSONObject[] }
  return measure(
    count,
    () => recorder.total,
    async (index) => {
      await destination.onEvent(path.event(index), settings)
      destination.responses.length = 0
    }
  )
}

/**
 * Batched, through actions-core `onBatch` with batches of 100: the requests per 1,000 events batching saves.
 * Undefined when no preset action of the path can batch (the vendor has no batch API for it).
 */
async function plainBatched(path: Path, count: number, sandbox: Sandbox): Promise<number | undefined> {
  const definition = registry.get(path.integration)?.destinations[path.definition ?? 'destination']
  if (!definition) throw new Error(`no ${path.integration} destination`)
  const batchable = presetSubscriptions(definition).filter(
    (subscription) => definition.actions[subscription.partnerAction]?.performBatch
  )
  if (batchable.length === 0) return undefined
  const destination = sandbox.destination(definition, { client: 'actions-core' })
  const recorder = sandbox.recorder
  const settings = { ...path.settings, subscriptions: batchable as unknown as JSONObject[] }
  const before = recorder.total
  for (let offset = 0; offset < count; offset += 100) {
    await destination.onBatch(
      Array.from({ length: Math.min(100, count - offset) }, (_, index) => path.event(offset + index)),
      settings
    )
    destination.responses.length = 0
  }
  return Math.round(((recorder.total - before) / count) * 1000)
}

async function runtimeMode(
  path: Path,
  count: number,
  transport: 'sandbox' | 'live',
  sinkUrl?: string
): Promise<Measurement> {
  const settings =
    transport === 'live'
      ? {
          ...path.settings,
          workflows: Array.from({ length: SINK_WORKFLOWS }, (_, index) => `${sinkUrl}/w${index}`),
          allow_insecure_urls: true
        }
      : path.settings
  const resolved = resolveConfig(
    {
      transport,
      stateDir: join(mkdtempSync(join(tmpdir(), 'open-actions-bench-')), 'state'),
      destinations: [
        {
          id: 'bench',
          integration: path.integration,
          definition: path.definition ?? 'destination',
          settings,
          subscriptions: 'presets',
          // The live sink is on loopback, which the live transport refuses unless told otherwise.
          ...(transport === 'live' ? { allowPrivateNetworks: true } : {})
        }
      ]
    },
    registry
  )
  // Batching off here: one event at a time, so latency is the event's own (batching is measured as requests/1,000).
  const unbatched = {
    ...resolved,
    destinations: resolved.destinations.map((instance) => ({
      ...instance,
      subscriptions: instance.subscriptions.map((subscription) => ({
        ...subscription,
        mapping: { ...subscription.mapping, enable_batching: false }
      }))
    }))
  }
  const runtime = await OpenActionsRuntime.open({
    resolved: unbatched,
    registry,
    logLevel: 'error',
    logWrite: () => undefined
  })
  const lane = runtime.lanes.get('bench')
  if (!lane) throw new Error('no bench lane')
  try {
    // The runtime's matching and executor per event, as its workers run them; the store is measured on its own below.
    return await measure(
      count,
      () => runtime.recorder.total,
      async (index) => {
        const event = path.event(index)
        for (const target of matchTargets(runtime.lanes, event))
          await execute(lane, target, [
            {
              id: 'bench',
              eventId: event.messageId ?? '',
              event,
              target: target.ref,
              attempt: 1,
              budgetStart: 0,
              state: {}
            }
          ])
      }
    )
  } finally {
    await runtime.close()
  }
}

interface ConnectionFigures {
  readonly client: 'runtime' | 'actions-core'
  readonly events: number
  readonly requests: number
  readonly connections: number
  readonly tlsHandshakes: number
  readonly resumedSessions: number
  readonly retries: number
  readonly deadLettered: number
  readonly seconds: number
}

/**
 * Live mode against an HTTPS vendor on loopback that answers chunked, as most servers do: what arrives at the vendor
 * for 1,000 events (requests, connections, TLS handshakes), with the runtime's client and with actions-core's own.
 */
async function connectionFigures(client: 'runtime' | 'actions-core', total: number): Promise<ConnectionFigures> {
  const sink = await startHttpsSink({ chunked: true })
  const resolved = resolveConfig(
    {
      transport: 'live',
      stateDir: join(mkdtempSync(join(tmpdir(), 'open-actions-bench-')), 'state'),
      network: { caFile: TEST_CA_FILE },
      destinations: [
        {
          id: 'tray-sink',
          integration: 'tray',
          settings: { workflows: [`${sink.origin}/workflow`], allow_insecure_urls: true },
          allowPrivateNetworks: true,
          client
        }
      ]
    },
    registry
  )
  const runtime = await OpenActionsRuntime.open({ resolved, registry, logLevel: 'error', logWrite: () => undefined })
  const started = process.hrtime.bigint()
  try {
    for (let offset = 0; offset < total; offset += 100)
      await runtime.ingestEvents(
        Array.from({ length: Math.min(100, total - offset) }, (_, index) =>
          events.trackEvent('Bench Sink', { index: offset + index }, { messageId: nextId() })
        )
      )
    await runtime.drain({ timeoutMs: 600_000 })
    return {
      client,
      events: total,
      requests: sink.requests.length,
      connections: sink.counters.connections,
      tlsHandshakes: sink.counters.tlsHandshakes,
      resumedSessions: sink.counters.resumedSessions,
      retries: runtime.totals.retries,
      deadLettered: runtime.totals.deadLettered,
      seconds: Number((Number(process.hrtime.bigint() - started) / 1e9).toFixed(2))
    }
  } finally {
    await runtime.close()
    await sink.close()
  }
}

interface StoreFigures {
  readonly sync: 'full' | 'normal'
  readonly acceptEventsPerSecond: number
  readonly bytesPer100kEvents: number
  readonly restartMsWith100kPending: number
  readonly endToEndEventsPerSecond: number
}

/**
 * The embedded store on its own: accepting 100,000 events (5 deliveries each, as the sample configuration makes;
 * requests of 100, four at a time, as the soak sends them), its size on disk, and how long a restart takes with all
 * of them pending; then end to end, through the runtime with the sample configuration in sandbox mode.
 */
async function storeFigures(sync: 'full' | 'normal', total: number): Promise<StoreFigures> {
  const stateDir = join(mkdtempSync(join(tmpdir(), 'open-actions-bench-store-')), 'state')
  const targets = ['insider', 'moengage', 'onesignal', 'segment', 'tray'].map((instance) => ({
    instance,
    integration: instance,
    action: 'bench',
    subscription: 'Bench'
  }))
  let store = new SqliteStore({ stateDir, sync })
  const started = process.hrtime.bigint()
  for (let offset = 0; offset < total; offset += 400) {
    await Promise.all(
      [0, 100, 200, 300].map((part) =>
        store.accept(
          Array.from({ length: Math.max(0, Math.min(100, total - offset - part)) }, (_, index) => {
            const event = events.identifyEvent({ messageId: `store-${offset + part + index}` })
            return { eventId: event.messageId ?? '', event, receivedAt: Date.now(), targets }
          }),
          { now: Date.now(), dedupeWindowMs: 86_400_000 }
        )
      )
    )
  }
  const acceptSeconds = Number(process.hrtime.bigint() - started) / 1e9
  await store.close()
  const bytes = new SqliteStore({ stateDir, sync })
  const size = bytes.sizeBytes()
  await bytes.close()
  const restartStarted = process.hrtime.bigint()
  store = new SqliteStore({ stateDir, sync })
  await store.resume(() => true, Date.now())
  const restartMs = Number(process.hrtime.bigint() - restartStarted) / 1e6
  await store.close()

  const endToEndCount = Math.min(total, 20_000)
  const runtime = await OpenActionsRuntime.open({
    resolved: resolveConfig(
      {
        ...sampleConfig,
        stateDir: join(mkdtempSync(join(tmpdir(), 'open-actions-bench-e2e-')), 'state'),
        store: { sync }
      },
      registry
    ),
    registry,
    logLevel: 'error',
    logWrite: () => undefined
  })
  const endToEndStarted = process.hrtime.bigint()
  for (let offset = 0; offset < endToEndCount; offset += 100)
    await runtime.ingestEvents(
      Array.from({ length: 100 }, (_, index) =>
        events.identifyEvent({ messageId: `e2e-${offset + index}`, userId: `u-${(offset + index) % 1000}` })
      )
    )
  await runtime.drain({ timeoutMs: 600_000 })
  const endToEndSeconds = Number(process.hrtime.bigint() - endToEndStarted) / 1e9
  await runtime.close()
  return {
    sync,
    acceptEventsPerSecond: Math.round(total / acceptSeconds),
    bytesPer100kEvents: Math.round((size / total) * 100_000),
    restartMsWith100kPending: Math.round((restartMs / total) * 100_000),
    endToEndEventsPerSecond: Math.round(endToEndCount / endToEndSeconds)
  }
}

function coldStart(): { package: string; loadMs: number; constructMs: number; heapMb: number; unpackedKb: number }[] {
  // Every published integration package of the workspace: a new vendor is measured without editing this list.
  const packages = integrationPackages().filter((integration) => integration.packageJson.private !== true)
  return packages.map(({ dir: directory, packageJson: { name } }) => {
    const script = `
      const started = process.hrtime.bigint()
      const { Destination } = require('@segment/actions-core')
      const module = require(${JSON.stringify(name)})
      const loaded = process.hrtime.bigint()
      for (const value of Object.values(module)) if (value && typeof value === 'object' && 'actions' in value && 'mode' in value) new Destination(value)
      const constructed = process.hrtime.bigint()
      globalThis.gc && globalThis.gc()
      console.log(JSON.stringify({ loadMs: Number(loaded - started) / 1e6, constructMs: Number(constructed - loaded) / 1e6, heapMb: process.memoryUsage().heapUsed / 1048576 }))`
    const output = execFileSync(process.execPath, ['--expose-gc', '-e', script], {
      cwd: join(REPO_ROOT, 'packages', 'runtime'),
      encoding: 'utf8'
    })
    const result = JSON.parse(output) as { loadMs: number; constructMs: number; heapMb: number }
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
        cwd: directory,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore']
      })
    ) as { unpackedSize: number }[]
    return {
      package: name,
      loadMs: Number(result.loadMs.toFixed(1)),
      constructMs: Number(result.constructMs.toFixed(1)),
      heapMb: Number(result.heapMb.toFixed(1)),
      unpackedKb: Math.round((packed[0]?.unpackedSize ?? 0) / 1024)
    }
  })
}

async function main(): Promise<void> {
  const args = toolArguments('bench', {
    events: { type: 'string' },
    runs: { type: 'string' },
    'store-events': { type: 'string' },
    json: { type: 'string' }
  })
  const count = args.number('events', 1000)
  const runs = args.number('runs', 3)
  const sink = createServer((request, response) => {
    request.resume()
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'))
  })
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve))
  const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`

  const recorder = new DeliveryRecorder(10)
  const rows = []
  for (const path of PATHS) {
    const results: Record<string, Measurement[]> = { floor: [], actionsCore: [], runtimeSandbox: [], runtimeLive: [] }
    const batched: (number | undefined)[] = []
    for (let run = 0; run < runs; run += 1) {
      results.floor?.push(await floor(path, count))
      const sandbox = await startSandbox({ recorder })
      results.actionsCore?.push(await plainActionsCore(path, count, sandbox))
      batched.push(await plainBatched(path, count, sandbox))
      await sandbox.close()
      results.runtimeSandbox?.push(await runtimeMode(path, count, 'sandbox'))
      if (path.integration === 'tray') results.runtimeLive?.push(await runtimeMode(path, count, 'live', sinkUrl))
    }
    const summary = (key: string) => {
      const list = results[key] ?? []
      if (list.length === 0) return undefined
      return {
        eventsPerSecond: median(list.map((entry) => entry.eventsPerSecond)),
        p50Ms: median(list.map((entry) => entry.p50Ms)),
        p99Ms: median(list.map((entry) => entry.p99Ms)),
        peakRssMb: Math.max(...list.map((entry) => entry.peakRssMb)),
        requestsPer1000: median(list.map((entry) => entry.requestsPer1000))
      }
    }
    // Ratios within each run, then their median: how much slower than the floor, and what the runtime costs.
    const ratio = (a: string, b: string) =>
      median(
        (results[a] ?? []).map(
          (entry, index) => entry.eventsPerSecond / Math.max(1, results[b]?.[index]?.eventsPerSecond ?? 1)
        )
      )
    rows.push({
      path: path.name,
      floor: summary('floor'),
      actionsCore: summary('actionsCore'),
      runtimeSandbox: summary('runtimeSandbox'),
      runtimeLive: summary('runtimeLive'),
      requestsPer1000Batched: batched.every((value) => value === undefined)
        ? undefined
        : median(batched.filter((value): value is number => value !== undefined)),
      floorOverActionsCore: Number(ratio('floor', 'actionsCore').toFixed(1)),
      actionsCoreOverRuntime: Number(ratio('actionsCore', 'runtimeSandbox').toFixed(2))
    })
    process.stderr.write(`benchmarked ${path.name}\n`)
  }
  sink.close()
  const storeEvents = args.number('store-events', 100_000)
  // A first round warms up the process (JIT, sockets); its figures are dropped.
  await storeFigures('normal', 2000)
  const store = [await storeFigures('full', storeEvents), await storeFigures('normal', storeEvents)]
  process.stderr.write('benchmarked the store\n')
  const connections = [await connectionFigures('runtime', 1000), await connectionFigures('actions-core', 1000)]
  process.stderr.write('benchmarked live connections\n')
  const cold = coldStart()
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 1073741824)} GiB, Node ${process.version}`
  const report = { machine, eventsPerRun: count, runs, rows, store, connections, coldStart: cold }

  const cell = (value: number | undefined) => (value === undefined ? 'n/a' : String(value))
  console.log(`pnpm bench — ${machine}; ${count} events per run, ${runs} runs, medians\n`)
  console.log(
    '| path | mode | events/s | p50 ms | p99 ms | peak RSS MB | requests/1,000 events |\n|---|---|---|---|---|---|---|'
  )
  for (const row of rows) {
    for (const [mode, label] of [
      ['floor', 'floor: JSON round trip'],
      ['actionsCore', '(a) actions-core onEvent, presets'],
      ['runtimeSandbox', '(b) runtime executor, sandbox'],
      ['runtimeLive', '(c) runtime, live → loopback sink']
    ] as const) {
      const entry = row[mode]
      if (!entry) continue
      console.log(
        `| ${row.path} | ${label} | ${cell(entry.eventsPerSecond)} | ${cell(entry.p50Ms)} | ${cell(entry.p99Ms)} | ${cell(entry.peakRssMb)} | ${mode === 'floor' ? '–' : cell(entry.requestsPer1000)} |`
      )
    }
    console.log(
      `| ${row.path} | batched (onBatch, 100 per call) | | | | | ${row.requestsPer1000Batched ?? 'n/a (no batch API)'} |`
    )
  }
  console.log(
    '\n| path | floor ÷ actions-core (times slower than JSON) | actions-core ÷ runtime (runtime cost) |\n|---|---|---|'
  )
  for (const row of rows) console.log(`| ${row.path} | ${row.floorOverActionsCore} | ${row.actionsCoreOverRuntime} |`)
  console.log(
    `\nThe embedded store (${storeEvents} events of 5 deliveries; end to end: 20,000 identifies through the sample configuration)\n\n| sync | accept events/s | MB per 100,000 events | restart ms with 100,000 pending | end-to-end events/s |\n|---|---|---|---|---|`
  )
  for (const entry of store)
    console.log(
      `| ${entry.sync} | ${entry.acceptEventsPerSecond} | ${(entry.bytesPer100kEvents / 1048576).toFixed(1)} | ${entry.restartMsWith100kPending} | ${entry.endToEndEventsPerSecond} |`
    )
  console.log(
    '\nLive → HTTPS vendor on loopback answering chunked, 1,000 Tray events (one workflow)\n\n| client | requests | connections | TLS handshakes (resumed) | retries | dead-lettered | seconds |\n|---|---|---|---|---|---|---|'
  )
  for (const entry of connections)
    console.log(
      `| ${entry.client} | ${entry.requests} | ${entry.connections} | ${entry.tlsHandshakes} (${entry.resumedSessions}) | ${entry.retries} | ${entry.deadLettered} | ${entry.seconds} |`
    )
  console.log(
    '\nCold start (fresh process: require the package and construct each Destination)\n\n| package | load ms | construct ms | heap MB | unpacked KB |\n|---|---|---|---|---|'
  )
  for (const entry of cold)
    console.log(`| ${entry.package} | ${entry.loadMs} | ${entry.constructMs} | ${entry.heapMb} | ${entry.unpackedKb} |`)
  const json = args.string('json')
  if (json !== undefined) writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`)
}

// Exits when done: sinks and runtimes of the measurements may leave idle sockets behind.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    if (error instanceof ToolUsageError) process.stderr.write(`${error.message}\n`)
    else console.error(error)
    process.exit(error instanceof ToolUsageError ? 2 : 1)
  }
)
