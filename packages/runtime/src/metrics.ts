import type { StatsContext } from '@segment/actions-core'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'

let processRegistry: Registry | undefined

/**
 * Node's and the process's own metrics (prom-client's defaults), collected once per process in a registry of their own:
 * they describe the process, not one runtime. prom-client cannot stop collecting them (its GC observer is never
 * disconnected), so collecting them per runtime kept every runtime ever opened reachable through that observer, its
 * histogram and the registry it shared with the runtime's gauges.
 */
export function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry })
  }
  return processRegistry
}

/** What the runtime's gauges read when scraped (the store's counts are read once per scrape). */
export interface GaugeSources {
  readonly backlog: () => number
  readonly waiting: () => number
  readonly sending: () => number
  readonly storeHealthy: () => boolean
  readonly counts: () => Promise<{
    readonly oldestPendingAt: number | undefined
    readonly deadLettersByInstance: Readonly<Record<string, number>>
  }>
}

/** HTTP methods a label may carry; anything else is counted as `other`, so a client cannot mint series. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])

/** Latency buckets (seconds) from a fast commit to a vendor at its timeout. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
/** Accepted → delivered can take the whole retry budget. */
const DELIVERY_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600]

/**
 * The runtime's Prometheus metrics on prom-client, in a registry of its own (an embedding process keeps its global
 * registry): counters, latency histograms per instance and gauges read at scrape time, rendered with Node's default
 * process metrics under their standard names (`process_cpu_user_seconds_total`, `nodejs_eventloop_lag_seconds`, …;
 * one set per process, `processMetrics`). Every label value comes from the configuration or a fixed set (an event
 * type outside Segment's six never gets this far), so the number of series is bounded.
 */
export class RuntimeMetrics {
  readonly registry = new Registry()

  readonly eventsReceived = new Counter({
    name: 'open_actions_events_received_total',
    help: 'Events accepted, by Segment message type.',
    labelNames: ['type'] as const,
    registers: [this.registry]
  })
  readonly trackingMessages = new Counter({
    name: 'open_actions_tracking_messages_total',
    help: 'Messages of the Segment Tracking API, accepted or rejected (with the reason).',
    labelNames: ['outcome', 'reason'] as const,
    registers: [this.registry]
  })
  readonly sourcePayloads = new Counter({
    name: 'open_actions_source_payloads_total',
    help: 'Inbound source payloads, per configured source.',
    labelNames: ['source'] as const,
    registers: [this.registry]
  })
  readonly deliveries = new Counter({
    name: 'open_actions_deliveries_total',
    help: 'Deliveries by outcome (delivered, dead_lettered).',
    labelNames: ['action', 'instance', 'outcome'] as const,
    registers: [this.registry]
  })
  readonly retries = new Counter({
    name: 'open_actions_retries_total',
    help: 'Delivery attempts scheduled again.',
    labelNames: ['action', 'instance'] as const,
    registers: [this.registry]
  })
  readonly httpRequests = new Counter({
    name: 'open_actions_http_requests_total',
    help: 'HTTP API requests, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry]
  })
  readonly httpDuration = new Histogram({
    name: 'open_actions_http_request_duration_seconds',
    help: 'HTTP API request duration, by route pattern.',
    labelNames: ['route'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry]
  })
  readonly acceptDuration = new Histogram({
    name: 'open_actions_accept_duration_seconds',
    help: 'Time to validate, match and durably commit accepted events, by entry point (events, source, tracking).',
    labelNames: ['via'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry]
  })
  readonly attemptDuration = new Histogram({
    name: 'open_actions_delivery_attempt_duration_seconds',
    help: 'One delivery attempt (an event, or a batch), per destination instance.',
    labelNames: ['instance'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry]
  })
  readonly deliveryLatency = new Histogram({
    name: 'open_actions_delivery_latency_seconds',
    help: 'From acceptance (or replay) to delivery, per destination instance.',
    labelNames: ['instance'] as const,
    buckets: DELIVERY_BUCKETS,
    registers: [this.registry]
  })
  readonly outboundRequests = new Counter({
    name: 'open_actions_outbound_requests_total',
    help: 'Requests to vendors, per instance and vendor host.',
    labelNames: ['host', 'instance', 'transport'] as const,
    registers: [this.registry]
  })
  readonly outboundConnections = new Counter({
    name: 'open_actions_outbound_connections_total',
    help: 'Connections opened to vendors, per instance.',
    labelNames: ['instance', 'transport'] as const,
    registers: [this.registry]
  })
  readonly tlsHandshakes = new Counter({
    name: 'open_actions_outbound_tls_handshakes_total',
    help: 'TLS handshakes with vendors, per instance.',
    labelNames: ['instance', 'transport'] as const,
    registers: [this.registry]
  })

  readonly consoleStreams = new Gauge({
    name: 'open_actions_console_streams',
    help: 'Live-stats streams open to console pages (a hidden tab closes its stream).',
    registers: [this.registry]
  })

  /** What actions-core itself counts through `statsContext` (e.g. `action.multistatus_discard`), per instance. */
  readonly actionsCoreCounts = new Counter({
    name: 'open_actions_actions_core_stats_total',
    help: 'Counts actions-core reports through statsContext (incr), per instance and stat.',
    labelNames: ['instance', 'stat'] as const,
    registers: [this.registry]
  })
  readonly actionsCoreValues = new Histogram({
    name: 'open_actions_actions_core_stat_values',
    help: 'Values actions-core reports through statsContext (histogram, set), per instance and stat.',
    labelNames: ['instance', 'stat'] as const,
    buckets: [1, 5, 10, 50, 100, 500, 1000, 5000],
    registers: [this.registry]
  })

  /**
   * actions-core's `statsContext` for one instance: its `incr`, `histogram` and `set` land in two series labelled by
   * instance and stat name. Stat names are actions-core's own constants; anything not shaped like one is `other`.
   */
  statsContext(instance: string): StatsContext {
    const stat = (name: string) => (/^[A-Za-z0-9_.-]{1,64}$/.test(name) ? name : 'other')
    const tags = [`instance:${instance}`]
    return {
      tags,
      statsClient: {
        _name: (name) => name,
        _tags: (extra = []) => [...tags, ...extra],
        incr: (name, value = 1) => this.actionsCoreCounts.inc({ instance, stat: stat(name) }, value),
        histogram: (name, value = 0) => this.actionsCoreValues.observe({ instance, stat: stat(name) }, value),
        set: (name, value) => this.actionsCoreValues.observe({ instance, stat: stat(name) }, value),
        observe: () => undefined
      }
    }
  }

  /** A bounded method label. */
  static method(method: string): string {
    return METHODS.has(method) ? method : 'other'
  }

  /** The gauges, read when scraped. */
  registerGauges(sources: GaugeSources): void {
    const registers = [this.registry]
    new Gauge({
      name: 'open_actions_backlog_deliveries',
      help: 'Deliveries accepted and not yet delivered or dead-lettered.',
      registers,
      collect() {
        this.set(sources.backlog())
      }
    })
    new Gauge({
      name: 'open_actions_deliveries_waiting',
      help: 'Sends waiting for a free slot of their instance.',
      registers,
      collect() {
        this.set(sources.waiting())
      }
    })
    new Gauge({
      name: 'open_actions_deliveries_sending',
      help: 'Sends in flight.',
      registers,
      collect() {
        this.set(sources.sending())
      }
    })
    new Gauge({
      name: 'open_actions_store_healthy',
      help: '1 while the store can write, 0 while writes fail.',
      registers,
      collect() {
        this.set(sources.storeHealthy() ? 1 : 0)
      }
    })
    // One read of the store's counts serves both gauges of a scrape.
    let pending: Promise<Awaited<ReturnType<GaugeSources['counts']>>> | undefined
    const counts = () => {
      pending ??= sources.counts().finally(() => {
        setImmediate(() => {
          pending = undefined
        })
      })
      return pending
    }
    new Gauge({
      name: 'open_actions_oldest_pending_age_seconds',
      help: 'Age of the oldest delivery not yet delivered or dead-lettered.',
      registers,
      async collect() {
        const { oldestPendingAt } = await counts()
        this.set(oldestPendingAt === undefined ? 0 : Math.max(0, (Date.now() - oldestPendingAt) / 1000))
      }
    })
    new Gauge({
      name: 'open_actions_dead_letters',
      help: 'Dead letters not yet replayed, per instance.',
      labelNames: ['instance'] as const,
      registers,
      async collect() {
        const { deadLettersByInstance } = await counts()
        this.reset()
        for (const [instance, value] of Object.entries(deadLettersByInstance)) this.set({ instance }, value)
      }
    })
  }

  /** The Prometheus text exposition. */
  /** This runtime's metrics, then the process's own (CPU, memory, event-loop lag, GC: `processMetrics`). */
  async render(): Promise<string> {
    const [own, processText] = await Promise.all([this.registry.metrics(), processMetrics().metrics()])
    return `${own.trimEnd()}\n\n${processText}`
  }

  get contentType(): string {
    return this.registry.contentType
  }
}
