import { createHash, randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { join } from 'node:path'
import type { JSONObject, SegmentEvent, StatsContext } from '@segment/actions-core'
import { createRedactor, errorDetails, type Redactor } from '@open-actions/core'
import { configSecrets, configurationHash, type ResolvedConfig } from './config'
import type { AttemptOutcome } from './delivery/retry-policy'
import { type SettledAttempt, Workers } from './delivery/workers'
import { execute } from './executor'
import { Ingest, type SourceAcceptance } from './ingest/ingest'
import { RejectedMessages, type TrackingRequest, WriteKeys } from './ingest/tracking'
import { actionsCoreLogger, createLogger, type Logger, type LogLevel } from './logger'
import { RuntimeMetrics } from './metrics'
import { createRegistry, type Registry } from './registry'
import { createSimulators, type VendorSimulator } from './simulators'
import { type SimulatorServer, startSimulatorServer } from './simulators/server'
import { type StatBucket, Stats } from './stats'
import { importDeadLetterFile } from './store/import-dead-letter-file'
import { type EventResult, targetKey } from './store/results'
import { PostgresStore } from './store/postgres-store'
import { type LaneRateLimit, RedisStore } from './store/redis-store'
import { SqliteStore } from './store/sqlite-store'
import type {
  DeadLetterPage,
  DeadLetterQuery,
  DeadLetterSelection,
  DeliveryStore,
  ReplayReport,
  Retention,
  StoreCounts,
  StoreHealth
} from './store/store'
import type { Claim, DeletionOutcome, DeletionRecord } from './store/store'
import { buildLanes, type Lane, type LaneTransportSpec, type Target } from './targets'
import {
  type ConnectionReport,
  connectionTestSchema,
  runTest,
  testConnection,
  type TestReport,
  UnknownDefinitionError
} from './tester'
import { FaultBook } from './transport/faults'
import { InstanceTransport } from './transport/http-transport'
import { DeliveryRecorder, requestContext } from './transport/recorder'

export interface RuntimeOptions {
  readonly resolved: ResolvedConfig
  readonly registry: Registry
  readonly logLevel?: LogLevel
  /** Where log lines go (stdout by default). */
  readonly logWrite?: (line: string) => void
  readonly random?: () => number
  /**
   * `all` (default): accepts and delivers. With a shared queue (redis), `api` only validates, commits and answers, and
   * `worker` only delivers (its HTTP server shows `/health` and `/metrics`).
   */
  readonly role?: RuntimeRole
  /** This process among the workers of a shared queue, stable across its restarts (default: host name and pid). */
  readonly workerName?: string
}

export type RuntimeRole = 'all' | 'api' | 'worker'

/** A Tracking API request with no write key, or one that is not configured (401). */
export class UnknownWriteKeyError extends Error {
  readonly status = 401
  constructor(given: boolean, configured: number) {
    super(
      !given
        ? 'no write key: send it as the Basic-auth user name or as "writeKey" in the body'
        : configured === 0
          ? 'unknown write key: no write key is configured (add "writeKeys" to the configuration)'
          : 'unknown write key'
    )
    this.name = 'UnknownWriteKeyError'
  }
}

export interface TrackingAcceptance {
  readonly accepted: number
  readonly rejected: number
}

export interface LiveStats {
  readonly at: string
  readonly series: readonly StatBucket[]
  readonly totals: { readonly delivered: number; readonly deadLettered: number; readonly retries: number }
  readonly backlog: number
  readonly oldestPendingAgeSeconds: number | null
  readonly deadLetters: number
  readonly requests: number
  readonly instances: readonly {
    readonly id: string
    readonly delivered: number
    readonly deadLettered: number
    readonly retries: number
    readonly deadLetters: number
  }[]
}

export interface RuntimeHealth {
  readonly status: 'ok' | 'degraded'
  readonly role: RuntimeRole
  /** Where accepted events wait: `embedded` (SQLite) or `redis` (BullMQ). */
  readonly queue: 'embedded' | 'redis' | 'postgres'
  readonly transport: 'sandbox' | 'live'
  readonly store: { readonly kind: string; readonly ok: boolean; readonly error?: string; readonly since?: string }
  readonly backlog: number
  readonly oldestPendingAgeSeconds: number | null
  readonly deadLetters: number
  readonly uptimeSeconds: number
}

const PRUNE_EVERY_MS = 60_000

/** How long ago, in whole seconds (null when nothing is pending). */
function ageSeconds(at: number | undefined): number | null {
  return at === undefined ? null : Math.max(0, Math.round((Date.now() - at) / 1000))
}

/**
 * Everything one running instance holds, wired along the data path: ingest (validate, match, commit) → store
 * (SQLite under stateDir) → workers (per-lane loops: concurrency, batching, retries) → executor (actions-core) →
 * transport (sandbox simulators or live), and what the HTTP API and page show.
 */
export class OpenActionsRuntime {
  readonly metrics = new RuntimeMetrics()
  readonly stats = new Stats()
  readonly recorder = new DeliveryRecorder()
  readonly faults: FaultBook
  readonly redactor: Redactor
  readonly logger: Logger
  readonly store: DeliveryStore
  readonly role: RuntimeRole
  readonly lanes: ReadonlyMap<string, Lane>
  readonly workers: Workers
  readonly ingest: Ingest
  /** The Tracking API's write keys (`writeKeys`), and the messages it rejected lately. */
  readonly writeKeys: WriteKeys
  readonly rejectedMessages = new RejectedMessages()
  private readonly registryWithPackages: Registry
  /**
   * The vendor simulators on 127.0.0.1: what sandbox-mode instances and the event tester (in either mode) reach,
   * through their own transports.
   */
  readonly sandbox: SimulatorServer
  readonly startedAt = Date.now()
  /** Outcomes since start: what `replay` and the soak report. */
  readonly totals = { delivered: 0, deadLettered: 0, retries: 0 }
  /** The same outcomes per instance, for the console's live stats. */
  private readonly instanceTotals = new Map<string, { delivered: number; deadLettered: number; retries: number }>()
  private readonly statsContexts = new Map<string, StatsContext>()
  private pruneTimer: NodeJS.Timeout | undefined
  private lastCounts: StoreCounts = {
    backlog: 0,
    oldestPendingAt: undefined,
    deadLetters: 0,
    deadLettersByInstance: {}
  }
  private closing: Promise<void> | undefined
  private readonly stopping = new AbortController()
  /** Aborted when the runtime starts closing: long-lived answers (the console's live stats) end then. */
  readonly closingSignal: AbortSignal = this.stopping.signal

  private constructor(
    private readonly options: RuntimeOptions,
    sandbox: SimulatorServer,
    faults: FaultBook,
    readonly simulators: readonly VendorSimulator[],
    store: DeliveryStore,
    logger: Logger
  ) {
    const { resolved } = options
    this.role = options.role ?? 'all'
    this.store = store
    this.logger = logger
    this.sandbox = sandbox
    this.faults = faults
    this.redactor = createRedactor(configSecrets(resolved))
    this.writeKeys = new WriteKeys(resolved.config.writeKeys)
    this.registryWithPackages = createRegistry([...options.registry.values(), ...resolved.packages])
    try {
      const config = resolved.config
      this.lanes = buildLanes(resolved, (spec) => this.transportFor(spec, config.transport))
      this.workers = new Workers({
        store: this.store,
        lanes: this.lanes,
        retry: {
          baseDelayMs: config.delivery.baseDelayMs,
          maxDelayMs: config.delivery.maxDelayMs,
          retryForMs: config.delivery.retryForMs,
          maxAttempts: config.delivery.maxAttempts
        },
        batching: config.batching,
        execute: (lane, target, claims) => this.attempt(lane, target, claims),
        logger: this.logger,
        onSettled: (attempt) => this.recordSettled(attempt),
        ...(options.random ? { random: options.random } : {})
      })
      this.ingest = new Ingest({
        resolved,
        lanes: this.lanes,
        store: this.store,
        metrics: this.metrics,
        stats: this.stats,
        notify: (laneId) => this.notify(laneId)
      })
    } catch (error) {
      void this.store.close()
      throw error
    }
    // Deliveries committed by other processes on the shared queue wake this process's workers.
    if (this.role !== 'api') this.store.onNewWork?.((laneId) => this.workers.notify(laneId))
    this.registerGauges()
  }

  /**
   * One attempt, with what actions-core is given besides the delivery's state: the action's logger, actions-core's
   * stats into the metrics, and a signal only when `delivery.attemptTimeoutMs` bounds the attempt.
   */
  private async attempt(lane: Lane, target: Target, claims: readonly Claim[]): Promise<AttemptOutcome[]> {
    const timeoutMs = this.config.config.delivery.attemptTimeoutMs
    let statsContext = this.statsContexts.get(lane.id)
    if (!statsContext) {
      statsContext = this.metrics.statsContext(lane.id)
      this.statsContexts.set(lane.id, statsContext)
    }
    const stopTimer = this.metrics.attemptDuration.startTimer({ instance: lane.id })
    const outcomes = await execute(lane, target, claims, {
      logger: actionsCoreLogger(this.logger, { instance: lane.id, action: target.ref.action }),
      statsContext,
      ...(timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(timeoutMs) })
    })
    stopTimer()
    const now = Date.now()
    return outcomes.map((outcome, index) => {
      const claim = claims[index]
      if (outcome.ok && claim)
        this.metrics.deliveryLatency.observe({ instance: lane.id }, (now - claim.budgetStart) / 1000)
      return this.redactOutcome(outcome)
    })
  }

  /** A transport of its own for one instance (a lane, or one event-tester run): nothing is shared across them. */
  private transportFor(spec: LaneTransportSpec, mode: 'sandbox' | 'live'): InstanceTransport {
    return new InstanceTransport({
      instance: spec.instance,
      mode,
      connections: spec.connections,
      simulatorPorts: this.sandbox.ports,
      allowPrivateNetworks: spec.allowPrivateNetworks,
      ...(this.options.resolved.extraCa === undefined ? {} : { extraCa: this.options.resolved.extraCa }),
      recorder: this.recorder,
      redactor: () => this.redactor,
      metrics: this.metrics
    })
  }

  /**
   * Opens the store (locking `stateDir`), imports an earlier release's dead-letter file once, resumes what a stopped
   * or crashed process left (in-flight deliveries are due again at once; deliveries of instances no longer configured
   * are dead-lettered with that reason) and starts the workers.
   */
  static async open(options: RuntimeOptions): Promise<OpenActionsRuntime> {
    const { resolved } = options
    const role = options.role ?? 'all'
    if (role !== 'all' && resolved.config.queue.kind === 'embedded')
      throw new RoleError(
        `--role ${role} needs a queue shared by processes ("queue": {"kind": "redis" or "postgres", "url": …}, --queue or OPEN_ACTIONS_QUEUE); the embedded store is one process that accepts and delivers`
      )
    const logger = createLogger({
      level: options.logLevel ?? 'info',
      redactor: createRedactor(configSecrets(resolved)),
      ...(options.logWrite ? { write: options.logWrite } : {})
    })
    const store = await openStore(options, logger)
    const { sandbox: sandboxConfig } = resolved.config
    const faults = new FaultBook(sandboxConfig.faults)
    const simulators = createSimulators()
    let sandbox: SimulatorServer
    let runtime: OpenActionsRuntime
    try {
      sandbox = await startSimulatorServer(simulators, faults, { chunked: sandboxConfig.chunked })
    } catch (error) {
      await store.close()
      throw error
    }
    try {
      runtime = new OpenActionsRuntime(options, sandbox, faults, simulators, store, logger)
    } catch (error) {
      await sandbox.close()
      throw error
    }
    try {
      await runtime.start()
    } catch (error) {
      await runtime.close()
      throw error
    }
    return runtime
  }

  private async start(): Promise<void> {
    const { config } = this.options.resolved
    // An API process only accepts: resuming, delivering and pruning are the workers' (one process does all three).
    if (this.role === 'api') return
    // A dead-letter file of an earlier release belongs to one machine's embedded store.
    const legacyFile =
      this.store instanceof SqliteStore
        ? (config.deadLetterFile ?? join(this.store.files.stateDir, 'dead-letters.ndjson'))
        : undefined
    const imported =
      this.store instanceof SqliteStore && legacyFile !== undefined
        ? await importDeadLetterFile(this.store, legacyFile, (instance) => this.integrationOf(instance))
        : 0
    if (imported > 0) this.logger.info('dead letters imported from a file', { file: legacyFile, imported })
    const now = Date.now()
    const resumed = await this.store.resume(
      (target) => this.lanes.get(target.instance)?.targets.has(targetKey(target)) === true,
      now
    )
    if (resumed.resumed > 0 || resumed.orphaned > 0)
      this.logger.info('resumed deliveries left by the previous process', resumed)
    this.workers.start()
    await this.prune()
    this.pruneTimer = setInterval(() => void this.prune(), PRUNE_EVERY_MS)
    this.pruneTimer.unref()
  }

  get config(): ResolvedConfig {
    return this.options.resolved
  }

  /** The bundled integrations and the packages the configuration loaded. */
  get registry(): Registry {
    return this.registryWithPackages
  }

  get retention(): Retention {
    const { config } = this.options.resolved
    return { ...config.retention, dedupeWindowMs: config.dedupeWindowMs }
  }

  /** Commits events for delivery; resolves once they are durable, with each event's targets queued. */
  ingestEvents(events: readonly SegmentEvent[]): Promise<EventResult[]> {
    return this.ingest.events(events)
  }

  /**
   * A Segment Tracking API request (parsed): its write key must be configured (401 otherwise); its good messages are
   * committed for the key's destinations, completed as Segment's API completes them (`receivedAt` now, `timestamp`
   * corrected for clock skew); its rejected messages are recorded (`GET /v1/tracking/rejected`, a log line, a metric)
   * once the rest is committed, and never delivered.
   */
  async track(request: TrackingRequest, path: string): Promise<TrackingAcceptance> {
    const key = this.writeKeys.lookup(request.writeKey)
    if (!key.known) throw new UnknownWriteKeyError(request.writeKey !== undefined, this.writeKeys.size)
    if (request.messages.length > 0)
      await this.ingest.events(request.messages, {
        ...(key.instances ? { instances: key.instances } : {}),
        via: 'tracking',
        overwriteReceivedAt: true,
        sentAt: request.sentAt
      })
    this.metrics.trackingMessages.inc({ outcome: 'accepted', reason: '' }, request.messages.length)
    const at = new Date().toISOString()
    for (const rejection of request.rejected) {
      const entry = this.redactor.value({ at, path, ...rejection })
      this.rejectedMessages.add(entry)
      this.metrics.trackingMessages.inc({ outcome: 'rejected', reason: rejection.reason })
      this.logger.warn('tracking API message rejected', { path, reason: rejection.reason, error: entry.error })
    }
    return { accepted: request.messages.length, rejected: request.rejected.length }
  }

  /**
   * A user's deletion request. First the runtime's own store forgets them (their events, results and dead letters, and
   * deliveries not made yet, which are then never made: nothing re-creates the user at a vendor afterwards), with the
   * requests and rejections this process still shows; then each destination instance whose definition has `onDelete`
   * is asked to delete them (once per anonymous id, or once with the user id alone). The outcome per instance is kept in
   * the store under the returned id; the user id only as its SHA-256.
   */
  async deleteUser(request: {
    readonly userId?: string
    readonly anonymousIds?: readonly string[]
  }): Promise<DeletionRecord> {
    const anonymousIds = [...new Set(request.anonymousIds ?? [])]
    const userId = request.userId
    const { eventIds, ...purged } = await this.store.purgeUser({
      ...(userId === undefined ? {} : { userId }),
      anonymousIds
    })
    const ids = [...(userId === undefined ? [] : [userId]), ...anonymousIds]
    this.recorder.forget(eventIds, ids)
    this.rejectedMessages.forget(ids)
    const identities =
      anonymousIds.length === 0 ? [{ userId }] : anonymousIds.map((anonymousId) => ({ userId, anonymousId }))
    const instances: DeletionOutcome[] = []
    for (const instance of this.config.destinations) {
      const destination = this.lanes.get(instance.id)?.destination
      if (!destination?.onDelete || !instance.definition.onDelete) {
        instances.push({ instance: instance.id, status: 'not_supported' })
        continue
      }
      const onDelete = destination.onDelete.bind(destination)
      try {
        for (const identity of identities)
          await requestContext.run({ action: 'onDelete', eventIds: [] }, () =>
            onDelete({ type: 'delete', ...identity } as unknown as SegmentEvent, instance.settings)
          )
        instances.push({ instance: instance.id, status: 'deleted' })
      } catch (error) {
        const details = errorDetails(error)
        instances.push({
          instance: instance.id,
          status: 'failed',
          error: {
            message: this.redactor.text(details.message),
            ...(details.status === undefined ? {} : { status: details.status })
          }
        })
      }
    }
    const record: DeletionRecord = {
      id: randomUUID(),
      at: new Date().toISOString(),
      ...(userId === undefined ? {} : { userIdSha256: createHash('sha256').update(userId).digest('hex') }),
      anonymousIds: anonymousIds.length,
      instances,
      purged
    }
    await this.store.recordDeletion(record)
    this.logger.info('user deletion', {
      id: record.id,
      purged,
      instances: Object.fromEntries(instances.map((outcome) => [outcome.instance, outcome.status]))
    })
    return record
  }

  /** An inbound webhook: validated, mapped to Segment messages and committed for delivery into Segment. */
  receive(sourceId: string, payload: unknown): Promise<SourceAcceptance> {
    return this.ingest.source(sourceId, payload)
  }

  result(eventId: string): Promise<EventResult | undefined> {
    return this.store.eventResult(eventId)
  }

  async deadLetters(query: DeadLetterQuery): Promise<DeadLetterPage> {
    return this.redactor.value(await this.store.deadLetters(query))
  }

  /** Makes dead letters deliverable again (durably), then lets the workers deliver them in the background. */
  async replay(selection: DeadLetterSelection): Promise<ReplayReport> {
    const report = await this.store.replay(selection, {
      now: Date.now(),
      isReplayable: (target) => this.lanes.get(target.instance)?.targets.has(targetKey(target)) === true
    })
    for (const lane of this.lanes.keys()) this.notify(lane)
    this.logger.info('dead letters replayed', { ...report, notFound: report.notFound.length })
    return report
  }

  async health(): Promise<RuntimeHealth> {
    // While the store cannot be read (Redis unreachable), the last counts read stand; the status says degraded.
    let readable = true
    const counts = await this.store.counts().then(
      (read) => (this.lastCounts = read),
      () => {
        readable = false
        return this.lastCounts
      }
    )
    const { health } = this.store
    return {
      status: health.ok && readable ? 'ok' : 'degraded',
      role: this.role,
      queue: this.config.config.queue.kind,
      transport: this.config.config.transport,
      store: { kind: this.store.kind, ...health },
      backlog: counts.backlog,
      oldestPendingAgeSeconds: ageSeconds(counts.oldestPendingAt),
      deadLetters: counts.deadLetters,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000)
    }
  }

  /** Settings each vendor simulator accepts, per integration slug: what the console fills in for the sandbox. */
  sandboxSettings(): Record<string, Readonly<Record<string, unknown>>> {
    return Object.assign({}, ...this.simulators.map((simulator) => simulator.sandboxSettings ?? {})) as Record<
      string,
      Readonly<Record<string, unknown>>
    >
  }

  /** "Test connection" with typed-in settings: always against the simulators, through a transport of its own. */
  async testConnection(input: unknown): Promise<ConnectionReport> {
    const { integration, definition: key, settings } = connectionTestSchema.parse(input)
    const definition = this.registry.get(integration)?.destinations[key]
    if (!definition) throw new UnknownDefinitionError(integration, key, this.registry)
    const transport = this.transportFor(
      { instance: 'connection-test', connections: 2, allowPrivateNetworks: false },
      'sandbox'
    )
    try {
      return await testConnection(definition, settings as JSONObject, this.redactor, transport)
    } finally {
      await transport.close()
    }
  }

  /** "Test connection" of a configured instance: its settings, through its own transport (live or sandbox). */
  async testInstanceConnection(id: string): Promise<ConnectionReport | undefined> {
    const instance = this.config.destinations.find((destination) => destination.id === id)
    const lane = this.lanes.get(id)
    if (!instance || !lane) return undefined
    return testConnection(instance.definition, instance.settings, this.redactor, lane.transport)
  }

  /** The event tester: always against the simulators, through a transport made for this one run. */
  async test(input: unknown): Promise<TestReport> {
    const transport = this.transportFor(
      { instance: 'event-tester', connections: 4, allowPrivateNetworks: false },
      'sandbox'
    )
    try {
      return await runTest(input, this.registry, this.redactor, transport)
    } finally {
      await transport.close()
    }
  }

  /** Waits until every accepted delivery is delivered or dead-lettered (tests, `send`, `replay`). */
  async drain(options: { readonly timeoutMs?: number; readonly instance?: string } = {}): Promise<void> {
    const deadline = Date.now() + (options.timeoutMs ?? 120_000)
    for (;;) {
      await this.store.flushSettlements()
      if (this.store.backlog === 0 && this.workers.held === 0) return
      if (Date.now() > deadline)
        throw new Error(`deliveries still pending after ${options.timeoutMs ?? 120_000} ms: ${this.store.backlog}`)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }

  /**
   * Stops the workers (sends waiting in batches go now; sends in flight get until `shutdownTimeoutMs`), writes what
   * is settled, and closes the store. Anything unfinished stays in the store for the next start.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopping.abort()
      if (this.pruneTimer) clearInterval(this.pruneTimer)
      const deadline = Date.now() + this.config.config.shutdownTimeoutMs
      await this.workers.stop(deadline)
      await this.store.close()
      await Promise.all([...this.lanes.values()].map((lane) => lane.transport.close()))
      await this.sandbox.close()
    })()
    return this.closing
  }

  /** New deliveries for a lane: this process's workers claim them now (an API process leaves them to the workers). */
  private notify(laneId: string): void {
    if (this.role !== 'api') this.workers.notify(laneId)
  }

  private integrationOf(instance: string): string {
    return (
      this.config.destinations.find((destination) => destination.id === instance)?.integration ??
      this.config.sources.find((source) => `source:${source.id}` === instance)?.integration ??
      'unknown'
    )
  }

  private async prune(): Promise<void> {
    try {
      const report = await this.store.prune(this.retention, Date.now())
      if (Object.values(report).some((count) => count > 0)) this.logger.debug('store pruned', { ...report })
    } catch (error) {
      this.logger.error('pruning the store failed', { error: (error as Error).message })
    }
  }

  private redactOutcome(outcome: AttemptOutcome): AttemptOutcome {
    return outcome.ok
      ? { ...outcome, detail: this.redactor.value(outcome.detail) }
      : { ...outcome, message: this.redactor.text(outcome.message) }
  }

  private recordSettled({ claim, settlement, outcome }: SettledAttempt): void {
    const { metrics, stats, logger } = this
    const labels = { action: claim.target.action, instance: claim.target.instance }
    const context = {
      ...labels,
      eventId: claim.eventId,
      attempt: claim.attempt,
      status: outcome.ok ? outcome.status : outcome.status
    }
    let mine = this.instanceTotals.get(claim.target.instance)
    if (!mine) {
      mine = { delivered: 0, deadLettered: 0, retries: 0 }
      this.instanceTotals.set(claim.target.instance, mine)
    }
    if (settlement.outcome === 'delivered') {
      this.totals.delivered += 1
      mine.delivered += 1
      metrics.deliveries.inc({ ...labels, outcome: 'delivered' })
      stats.record('delivered')
      return
    }
    stats.record('errors')
    if (settlement.outcome === 'retry') {
      this.totals.retries += 1
      mine.retries += 1
      metrics.retries.inc(labels)
      logger.warn('delivery failed; retrying', {
        ...context,
        delayMs: settlement.at - Date.now(),
        reason: settlement.reason
      })
      return
    }
    this.totals.deadLettered += 1
    mine.deadLettered += 1
    metrics.deliveries.inc({ ...labels, outcome: 'dead_lettered' })
    logger.error('delivery dead-lettered', { ...context, reason: settlement.reason })
  }

  private registerGauges(): void {
    this.metrics.registerGauges({
      backlog: () => this.store.backlog,
      waiting: () => this.workers.waiting,
      sending: () => this.workers.sending,
      storeHealthy: () => this.store.health.ok,
      counts: () => this.store.counts()
    })
  }

  /**
   * What the console's live stats show, now: the last five minutes per second, the backlog and its oldest delivery,
   * dead letters, and per instance what was delivered, retried and dead-lettered since start.
   */
  async liveStats(): Promise<LiveStats> {
    const counts = await this.store.counts()
    const instances = [...this.lanes.keys()].map((id) => ({
      id,
      ...(this.instanceTotals.get(id) ?? { delivered: 0, deadLettered: 0, retries: 0 }),
      deadLetters: counts.deadLettersByInstance[id] ?? 0
    }))
    return {
      at: new Date().toISOString(),
      series: this.stats.series(),
      totals: { ...this.totals },
      backlog: counts.backlog,
      oldestPendingAgeSeconds: ageSeconds(counts.oldestPendingAt),
      deadLetters: counts.deadLetters,
      requests: this.recorder.total,
      instances
    }
  }

  /** The Prometheus text, every gauge read now and every secret redacted. */
  async renderMetrics(): Promise<string> {
    return this.redactor.text(await this.metrics.render())
  }
}

/** A role the configuration cannot run. */
export class RoleError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'RoleError'
  }
}

/** The embedded SQLite store under `stateDir`, or the Redis store the configuration's `queue` names. */
async function openStore(options: RuntimeOptions, logger: Logger): Promise<DeliveryStore> {
  const { config } = options.resolved
  const onHealthChange = (health: StoreHealth) => {
    if (health.ok) logger.info('the store writes again')
    else
      logger.error('the store cannot write; accepting is refused and settlements are kept until it can', {
        error: health.error
      })
  }
  if (config.queue.kind === 'embedded')
    return new SqliteStore({ stateDir: config.stateDir, sync: config.store.sync, onHealthChange })
  const rateLimits = new Map<string, LaneRateLimit>()
  for (const destination of options.resolved.destinations)
    if (destination.rateLimit)
      rateLimits.set(destination.id, { max: destination.rateLimit.max, durationMs: destination.rateLimit.perMs })
  const shared = {
    url: config.queue.url,
    namespace: config.queue.namespace,
    lockDurationMs: config.queue.lockDurationMs,
    owner: options.workerName ?? `${hostname()}-${process.pid}`,
    rateLimits,
    configHash: configurationHash(options.resolved),
    onHealthChange,
    logger
  }
  return config.queue.kind === 'redis' ? RedisStore.open(shared) : PostgresStore.open(shared)
}
