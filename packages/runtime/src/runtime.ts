import type { SegmentEvent } from '@segment/actions-core'
import { createRedactor, type Redactor } from '@open-actions/core'
import { deliverSourcePayload } from '@open-actions/segment'
import { configSecrets, type ResolvedConfig } from './config'
import { DeadLetterStore } from './dead-letters'
import { createLogger, type Logger, type LogLevel } from './logger'
import { Metrics } from './metrics'
import { Pipeline } from './pipeline'
import type { Registry } from './registry'
import { createSimulators } from './simulators'
import { Stats } from './stats'
import { runTest, type TestReport } from './tester'
import { FaultBook } from './transport/faults'
import { installTransport, type Transport } from './transport/interceptor'
import { DeliveryRecorder, requestContext } from './transport/recorder'

export interface RuntimeOptions {
  readonly resolved: ResolvedConfig
  readonly registry: Registry
  readonly logLevel?: LogLevel
  /** Where log lines go (stdout by default). */
  readonly logWrite?: (line: string) => void
  readonly random?: () => number
}

export interface SourceResult {
  readonly source: string
  readonly messages: number
  readonly outcomes: readonly { readonly ok: boolean; readonly status?: number; readonly message?: string }[]
}

/** Everything one running instance holds: the pipeline, the transport, and what the HTTP API and page show. */
export class OpenActionsRuntime {
  readonly metrics = new Metrics()
  readonly stats = new Stats()
  readonly recorder = new DeliveryRecorder()
  readonly faults: FaultBook
  readonly deadLetters: DeadLetterStore
  readonly redactor: Redactor
  readonly logger: Logger
  readonly pipeline: Pipeline
  readonly transport: Transport
  readonly startedAt = Date.now()

  constructor(private readonly options: RuntimeOptions) {
    const { resolved } = options
    this.redactor = createRedactor(configSecrets(resolved))
    this.logger = createLogger({
      level: options.logLevel ?? 'info',
      redactor: this.redactor,
      ...(options.logWrite ? { write: options.logWrite } : {})
    })
    this.faults = new FaultBook(resolved.config.sandbox.faults)
    this.deadLetters = new DeadLetterStore(resolved.config.deadLetterFile)
    this.transport = installTransport({
      mode: resolved.config.transport,
      recorder: this.recorder,
      redactor: () => this.redactor,
      simulators: createSimulators(),
      faults: this.faults,
      metrics: this.metrics
    })
    this.pipeline = new Pipeline(resolved, {
      deadLetters: this.deadLetters,
      metrics: this.metrics,
      logger: this.logger,
      stats: this.stats,
      redactor: () => this.redactor,
      ...(options.random ? { random: options.random } : {})
    })
  }

  get config(): ResolvedConfig {
    return this.options.resolved
  }

  get registry(): Registry {
    return this.options.registry
  }

  ingest(events: readonly SegmentEvent[]) {
    return this.pipeline.ingest(events)
  }

  /**
   * An inbound webhook: validated, mapped and sent to Segment. A failure is answered to the caller (who retries,
   * as webhook senders do) with the reason, and logged; nothing is dropped silently.
   */
  async receive(sourceId: string, payload: unknown): Promise<SourceResult> {
    const instance = this.config.sources.find((source) => source.id === sourceId)
    if (!instance)
      throw new UnknownSourceError(
        sourceId,
        this.config.sources.map((source) => source.id)
      )
    this.metrics.increment('open_actions_source_payloads_total', 'Inbound source payloads.', { source: sourceId })
    const delivery = await requestContext.run({ instance: `source:${sourceId}`, action: 'deliverToSegment' }, () =>
      deliverSourcePayload(instance.source, payload, instance.settings)
    )
    const outcomes = delivery.outcomes.map((outcome) =>
      outcome.ok ? { ok: true } : { ok: false, status: outcome.status, message: this.redactor.text(outcome.message) }
    )
    const failed = outcomes.filter((outcome) => !outcome.ok).length
    if (failed > 0) this.logger.error('source messages failed', { source: sourceId, failed, outcomes })
    return { source: sourceId, messages: delivery.messages.length, outcomes }
  }

  test(input: unknown): Promise<TestReport> {
    return runTest(input, this.registry, this.redactor)
  }

  async close(): Promise<void> {
    await this.pipeline.close()
    await this.transport.dispose()
  }
}

export class UnknownSourceError extends Error {
  constructor(id: string, known: readonly string[]) {
    super(`no source "${id}" is configured (configured: ${known.join(', ') || 'none'})`)
    this.name = 'UnknownSourceError'
  }
}
