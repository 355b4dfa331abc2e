import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import type { JSONObject, SegmentEvent } from '@segment/actions-core'
import { validate } from '@segment/destination-subscriptions'
import { createRedactor, presetSubscriptions } from '@open-actions/core'
import {
  DeliveryRecorder,
  InstanceTransport,
  OpenActionsRuntime,
  type ResolvedConfig,
  RuntimeMetrics,
  type Sandbox,
  startSandbox,
  registry,
  resolveConfig,
  sampleConfig,
  SqliteStore,
  type WireRequest
} from '@open-actions/runtime'
import {
  buildLanes,
  type Claim,
  configSecrets,
  type DestinationTarget,
  execute,
  matchTargets
} from '@open-actions/runtime/internal'
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
/** Events sent before each timed arm (JIT, connections), not counted. */
const WARM_UP = 200

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
  events: readonly SegmentEvent[],
  warmUp: number,
  requestsSeen: () => number,
  run: (event: SegmentEvent) => Promise<unknown>
): Promise<Measurement> {
  for (let index = 0; index < warmUp; index += 1) await run(events[index] as SegmentEvent)
  const requestsBefore = requestsSeen()
  const latencies: number[] = []
  let peak = process.memoryUsage().rss
  const count = events.length - warmUp
  const started = process.hrtime.bigint()
  for (let index = warmUp; index < events.length; index += 1) {
    const at = process.hrtime.bigint()
    await run(events[index] as SegmentEvent)
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

/** Events per second for `events` sent in calls of `size` (after `warmUp` calls), as `run` sends one call. */
async function measureBatched(
  events: readonly SegmentEvent[],
  size: number,
  warmUp: number,
  run: (batch: readonly SegmentEvent[]) => Promise<unknown>
): Promise<number> {
  const batches: SegmentEvent[][] = []
  for (let offset = 0; offset < events.length; offset += size) batches.push(events.slice(offset, offset + size))
  for (const batch of batches.slice(0, warmUp)) await run(batch)
  const timed = batches.slice(warmUp)
  const started = process.hrtime.bigint()
  for (const batch of timed) await run(batch)
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  return Math.round(timed.reduce((sum, batch) => sum + batch.length, 0) / seconds)
}

function floor(events: readonly SegmentEvent[], warmUp: number): Promise<Measurement> {
  return measure(
    events,
    warmUp,
    () => 0,
    async (event) => JSON.parse(JSON.stringify(event))
  )
}

/** What a vendor received, comparably: method, path, Host, every header but the connection ones, the body's bytes. */
function onWire(request: WireRequest): string {
  const headers: string[] = []
  for (let index = 0; index < request.rawHeaders.length; index += 2) {
    const name = (request.rawHeaders[index] ?? '').toLowerCase()
    if (name !== 'connection' && name !== 'keep-alive') headers.push(`${name}: ${request.rawHeaders[index + 1] ?? ''}`)
  }
  return `${request.method} ${request.path}\n${headers.join('\n')}\n\n${request.body.toString('base64')}`
}

/** The requests of one arm, in a comparable order (actions-core runs an event's subscriptions concurrently). */
function sorted(wire: readonly string[]): string[] {
  return [...wire].sort()
}

function definitionOf(path: Path) {
  const definition = registry.get(path.integration)?.destinations[path.definition ?? 'destination']
  if (!definition) throw new Error(`no ${path.integration} destination`)
  return definition
}

/**
 * The runtime's lanes for `path` (presets; batching on or off), with transports to the sandbox's simulators: the
 * executor as the workers run it, without the store.
 */
function runtimeLanes(path: Path, sandbox: Sandbox, recorder: DeliveryRecorder, batching: boolean, executor: Executor) {
  const resolved = benchConfig(path, 'sandbox', { settings: path.settings, executor })
  const configured = {
    ...resolved,
    destinations: resolved.destinations.map((instance) => ({
      ...instance,
      subscriptions: instance.subscriptions.map((subscription) => ({
        ...subscription,
        mapping: { ...subscription.mapping, enable_batching: batching }
      }))
    }))
  }
  const metrics = new RuntimeMetrics()
  // One redactor for the configuration, as the runtime keeps one (not one per request).
  const redactor = createRedactor(configSecrets(configured))
  const transports: InstanceTransport[] = []
  const lanes = buildLanes(configured, (spec) => {
    const transport = new InstanceTransport({
      instance: spec.instance,
      mode: 'sandbox',
      connections: spec.connections,
      simulatorPorts: sandbox.server.ports,
      recorder,
      redactor: () => redactor,
      metrics
    })
    transports.push(transport)
    return transport
  })
  const lane = lanes.get('bench')
  if (!lane) throw new Error('no bench lane')
  return { lanes, lane, close: () => Promise.all(transports.map((transport) => transport.close())) }
}

/** The bench's one destination instance: `path`'s integration with its presets, in `transport` mode. */
function benchConfig(
  path: Path,
  transport: 'sandbox' | 'live',
  instance: { readonly settings: JSONObject; readonly executor?: Executor; readonly allowPrivateNetworks?: boolean }
): ResolvedConfig {
  return resolveConfig(
    {
      transport,
      stateDir: join(mkdtempSync(join(tmpdir(), 'open-actions-bench-')), 'state'),
      destinations: [
        {
          id: 'bench',
          integration: path.integration,
          definition: path.definition ?? 'destination',
          subscriptions: 'presets',
          ...instance
        }
      ]
    },
    registry
  )
}

function claimOf(event: SegmentEvent, target: DestinationTarget): Claim {
  return {
    id: 'bench',
    eventId: event.messageId ?? '',
    event,
    target: target.ref,
    attempt: 1,
    budgetStart: 0,
    state: {}
  }
}

type Executor = 'compiled' | 'actions-core'

interface Arms {
  readonly actionsCore: Measurement
  readonly runtime: Measurement
  /** The runtime with its executor set to actions-core (`"executor": "actions-core"`): what compiling buys. */
  readonly runtimeActionsCoreExecutor: Measurement
  readonly identicalRequests: boolean
  readonly batched?: {
    readonly actionsCore: number
    readonly runtime: number
    readonly requestsPer1000: number
    readonly identicalRequests: boolean
  }
}

/**
 * The arms of one run of one path, over the same prebuilt events and the same simulators on loopback: plain
 * actions-core `Destination.onEvent` (its own node-fetch client) against the runtime's executor, one event at a time;
 * then `Destination.onBatch` against the runtime's batched executor, 100 events per call. The vendor's view of each
 * arm (every request as it arrived) is compared.
 */
async function arms(path: Path, events: readonly SegmentEvent[], warmUp: number): Promise<Arms> {
  const definition = definitionOf(path)
  const recorder = new DeliveryRecorder(10)
  let wire: string[] = []
  let capturing = false
  const sandbox = await startSandbox({
    recorder,
    onRequest: (request) => {
      if (capturing) wire.push(onWire(request))
    }
  })
  const take = () => {
    const taken = wire
    wire = []
    return sorted(taken)
  }
  const timedEvents = events.slice(warmUp)
  try {
    // (a) actions-core, all presets, one event at a time.
    const destination = sandbox.destination(definition, { client: 'actions-core' })
    const presets = presetSubscriptions(definition)
    const settings = { ...path.settings, subscriptions: presets as unknown as JSONObject[] }
    const plainOne = async (event: SegmentEvent) => {
      await destination.onEvent(event, settings)
      destination.responses.length = 0
    }
    const actionsCore = await measure(events, warmUp, () => recorder.total, plainOne)
    capturing = true
    for (const event of timedEvents.slice(0, 200)) await plainOne(event)
    const wireActionsCore = take()
    capturing = false

    // (b) the runtime's executor, one event at a time (batching off): compiled, and with actions-core as its executor.
    const oneAtATime = async (executor: Executor, compare: boolean) => {
      const runtime = runtimeLanes(path, sandbox, recorder, false, executor)
      const runOne = async (event: SegmentEvent) => {
        for (const target of matchTargets(runtime.lanes, event))
          await execute(runtime.lane, target, [claimOf(event, target)])
      }
      try {
        const measured = await measure(events, warmUp, () => recorder.total, runOne)
        if (!compare) return { measured, identical: true }
        capturing = true
        for (const event of timedEvents.slice(0, 200)) await runOne(event)
        const identical = JSON.stringify(take()) === JSON.stringify(wireActionsCore)
        capturing = false
        return { measured, identical }
      } finally {
        await runtime.close()
      }
    }
    const runtime = await oneAtATime('compiled', true)
    const fallback = await oneAtATime('actions-core', false)

    // Batched: 100 events per call, the batchable presets only.
    const batchable = presets.filter((subscription) => definition.actions[subscription.partnerAction]?.performBatch)
    let batched: Arms['batched']
    if (batchable.length > 0) {
      const batchSettings = { ...path.settings, subscriptions: batchable as unknown as JSONObject[] }
      const plainBatch = async (batch: readonly SegmentEvent[]) => {
        await destination.onBatch([...batch], batchSettings)
        destination.responses.length = 0
      }
      const runtimeBatching = runtimeLanes(path, sandbox, recorder, true, 'compiled')
      const batchedTargets = [...runtimeBatching.lane.targets.values()].filter(
        (target): target is DestinationTarget => target.kind === 'destination' && target.batched
      )
      // The runtime's batcher hands each target the events it matched, 100 at most per attempt.
      const runtimeBatch = async (batch: readonly SegmentEvent[]) => {
        for (const target of batchedTargets) {
          const matched = batch.filter((event) => validate(target.fql, event))
          if (matched.length > 0)
            await execute(
              runtimeBatching.lane,
              target,
              matched.map((event) => claimOf(event, target))
            )
        }
      }
      try {
        const before = recorder.total
        const actionsCoreBatched = await measureBatched(events, 100, 2, plainBatch)
        const requestsPer1000 = Math.round(((recorder.total - before) / events.length) * 1000)
        const runtimeBatched = await measureBatched(events, 100, 2, runtimeBatch)
        capturing = true
        for (let offset = 0; offset < 400; offset += 100) await plainBatch(timedEvents.slice(offset, offset + 100))
        const wirePlain = take()
        for (let offset = 0; offset < 400; offset += 100) await runtimeBatch(timedEvents.slice(offset, offset + 100))
        const wireRuntime = take()
        capturing = false
        batched = {
          actionsCore: actionsCoreBatched,
          runtime: runtimeBatched,
          requestsPer1000,
          identicalRequests: wirePlain.length > 0 && JSON.stringify(wirePlain) === JSON.stringify(wireRuntime)
        }
      } finally {
        await runtimeBatching.close()
      }
    }
    return {
      actionsCore,
      runtime: runtime.measured,
      runtimeActionsCoreExecutor: fallback.measured,
      identicalRequests: wireActionsCore.length > 0 && runtime.identical,
      ...(batched ? { batched } : {})
    }
  } finally {
    await sandbox.close()
  }
}

/** The runtime in live mode against a loopback HTTP sink (Tray only: workflow URLs can point at a local server). */
async function runtimeLive(
  path: Path,
  events: readonly SegmentEvent[],
  warmUp: number,
  sinkUrl: string
): Promise<Measurement> {
  const settings = {
    ...path.settings,
    workflows: Array.from({ length: SINK_WORKFLOWS }, (_, index) => `${sinkUrl}/w${index}`),
    allow_insecure_urls: true
  }
  // The live sink is on loopback, which the live transport refuses unless told otherwise.
  const resolved = benchConfig(path, 'live', { settings, allowPrivateNetworks: true })
  const runtime = await OpenActionsRuntime.open({ resolved, registry, logLevel: 'error', logWrite: () => undefined })
  const lane = runtime.lanes.get('bench')
  if (!lane) throw new Error('no bench lane')
  try {
    return await measure(
      events,
      warmUp,
      () => runtime.recorder.total,
      async (event) => {
        for (const target of matchTargets(runtime.lanes, event)) await execute(lane, target, [claimOf(event, target)])
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
    json: { type: 'string' },
    paths: { type: 'string' },
    'skip-store': { type: 'boolean' }
  })
  const count = args.number('events', 1000)
  const runs = args.number('runs', 3)
  const sink = createServer((request, response) => {
    request.resume()
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'))
  })
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve))
  const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`

  const rows = []
  const only = args.string('paths')
  for (const path of PATHS.filter(
    (entry) => only === undefined || entry.name.toLowerCase().includes(only.toLowerCase())
  )) {
    const results: Record<string, Measurement[]> = {
      floor: [],
      actionsCore: [],
      runtimeSandbox: [],
      runtimeActionsCoreExecutor: [],
      runtimeLive: []
    }
    const batchedRuns: NonNullable<Arms['batched']>[] = []
    const identical: boolean[] = []
    for (let run = 0; run < runs; run += 1) {
      // Built before any timer: the same events, in the same order, for every arm of this run.
      const events = Array.from({ length: WARM_UP + count }, (_, index) => path.event(index))
      results.floor?.push(await floor(events, WARM_UP))
      const measured = await arms(path, events, WARM_UP)
      results.actionsCore?.push(measured.actionsCore)
      results.runtimeSandbox?.push(measured.runtime)
      results.runtimeActionsCoreExecutor?.push(measured.runtimeActionsCoreExecutor)
      identical.push(measured.identicalRequests)
      if (measured.batched) batchedRuns.push(measured.batched)
      if (path.integration === 'tray') results.runtimeLive?.push(await runtimeLive(path, events, WARM_UP, sinkUrl))
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
    const batchedRatio = median(batchedRuns.map((entry) => entry.runtime / Math.max(1, entry.actionsCore)))
    rows.push({
      path: path.name,
      floor: summary('floor'),
      actionsCore: summary('actionsCore'),
      runtimeSandbox: summary('runtimeSandbox'),
      runtimeActionsCoreExecutor: summary('runtimeActionsCoreExecutor'),
      runtimeLive: summary('runtimeLive'),
      requestsPer1000Batched:
        batchedRuns.length === 0 ? undefined : median(batchedRuns.map((entry) => entry.requestsPer1000)),
      floorOverActionsCore: Number(ratio('floor', 'actionsCore').toFixed(1)),
      actionsCoreOverRuntime: Number(ratio('actionsCore', 'runtimeSandbox').toFixed(2)),
      // The fast path's figures: runtime executor ÷ actions-core one at a time, and how far each arm is from the floor.
      runtimeOverActionsCore: Number(ratio('runtimeSandbox', 'actionsCore').toFixed(2)),
      floorOverRuntime: Number(ratio('floor', 'runtimeSandbox').toFixed(1)),
      identicalRequests: identical.every(Boolean),
      ...(batchedRuns.length === 0
        ? {}
        : {
            batched: {
              actionsCore: { eventsPerSecond: median(batchedRuns.map((entry) => entry.actionsCore)) },
              runtime: { eventsPerSecond: median(batchedRuns.map((entry) => entry.runtime)) },
              runtimeOverActionsCore: Number(batchedRatio.toFixed(2)),
              identicalRequests: batchedRuns.every((entry) => entry.identicalRequests)
            }
          })
    })
    process.stderr.write(`benchmarked ${path.name}\n`)
  }
  sink.close()
  const storeEvents = args.number('store-events', 100_000)
  // `--skip-store`: the executor arms alone (the store, connections and cold start are measured on their own).
  const skipStore = args.flag('skip-store')
  // A first round warms up the process (JIT, sockets); its figures are dropped.
  if (!skipStore) await storeFigures('normal', 2000)
  const store = skipStore ? [] : [await storeFigures('full', storeEvents), await storeFigures('normal', storeEvents)]
  if (!skipStore) process.stderr.write('benchmarked the store\n')
  const connections = skipStore
    ? []
    : [await connectionFigures('runtime', 1000), await connectionFigures('actions-core', 1000)]
  if (!skipStore) process.stderr.write('benchmarked live connections\n')
  const cold = skipStore ? [] : coldStart()
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
      ['runtimeSandbox', '(b) runtime executor (compiled), sandbox'],
      ['runtimeActionsCoreExecutor', '(b′) runtime, executor: actions-core'],
      ['runtimeLive', '(c) runtime, live → loopback sink']
    ] as const) {
      const entry = row[mode]
      if (!entry) continue
      console.log(
        `| ${row.path} | ${label} | ${cell(entry.eventsPerSecond)} | ${cell(entry.p50Ms)} | ${cell(entry.p99Ms)} | ${cell(entry.peakRssMb)} | ${mode === 'floor' ? '–' : cell(entry.requestsPer1000)} |`
      )
    }
    const batched = row.batched
    console.log(
      `| ${row.path} | batched, 100 per call: actions-core onBatch → runtime | ${batched ? `${batched.actionsCore.eventsPerSecond} → ${batched.runtime.eventsPerSecond}` : ''} | | | | ${row.requestsPer1000Batched ?? 'n/a (no batch API)'} |`
    )
  }
  console.log(
    '\n| path | runtime ÷ actions-core, one at a time | runtime ÷ actions-core, batched | identical requests (one / batched) | floor ÷ actions-core | floor ÷ runtime |\n|---|---|---|---|---|---|'
  )
  for (const row of rows)
    console.log(
      `| ${row.path} | ${row.runtimeOverActionsCore} | ${row.batched?.runtimeOverActionsCore ?? 'n/a'} | ${row.identicalRequests ? 'yes' : 'NO'} / ${row.batched ? (row.batched.identicalRequests ? 'yes' : 'NO') : 'n/a'} | ${row.floorOverActionsCore} | ${row.floorOverRuntime} |`
    )
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
