import type { ClientRequest } from 'node:http'
import { createRedactor, type Redactor } from '@open-actions/core'
import type { Metrics } from '../metrics'
import type { VendorSimulator } from '../simulators'
import {
  type ObservedOutcome,
  type ObservedRequest,
  type SimulatorServer,
  startSimulatorServer
} from '../simulators/server'
import { DELIVERY_HEADER, installAgents } from './agents'
import type { FaultBook } from './faults'
import type { DeliveryRecord, DeliveryRecorder, RequestContext } from './recorder'

export interface TransportOptions {
  /** `sandbox`: answered by the vendor simulators, served on a loopback socket. `live`: real HTTP, still recorded. */
  readonly mode: 'sandbox' | 'live'
  readonly recorder: DeliveryRecorder
  readonly redactor: () => Redactor
  readonly simulators: readonly VendorSimulator[]
  readonly faults: FaultBook
  readonly metrics: Metrics
}

export interface Transport {
  /** Resolves once the simulator server listens (requests made before then wait for it). */
  readonly ready: Promise<SimulatorServer>
  dispose(): Promise<void>
}

function parseBody(text: string): unknown {
  if (text === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

const MAX_CAPTURED_BODY = 256 * 1024

/**
 * Routes and records every outbound HTTP request of the process through Node's global agents (see agents.ts):
 * sandboxed requests reach the simulators over loopback and are recorded there, with the delivery they belong to;
 * live requests go to the vendor and are recorded from the client side. Everything recorded is redacted.
 */
export function installTransport(options: TransportOptions): Transport {
  const contexts = new Map<string, { context: RequestContext | undefined; redactor: Redactor }>()
  let nextId = 0

  const redactorFor = (context: RequestContext | undefined) =>
    context?.secrets?.length ? createRedactor([...options.redactor().secrets, ...context.secrets]) : options.redactor()

  const addRecord = (
    context: RequestContext | undefined,
    redactor: Redactor,
    transport: DeliveryRecord['transport'],
    request: { method: string; url: string; headers: Record<string, string>; body: unknown }
  ) => {
    const record = options.recorder.add({
      at: new Date().toISOString(),
      transport,
      instance: context?.instance,
      action: context?.action,
      eventIds: context?.eventIds ?? [],
      method: request.method,
      url: redactor.text(request.url),
      headers: redactor.headers(request.headers),
      body: redactor.value(request.body)
    })
    context?.capture?.push(record)
    options.metrics.increment('open_actions_outbound_requests_total', 'Outbound vendor requests.', {
      host: new URL(request.url).hostname,
      transport
    })
    return record
  }

  const observe = (request: ObservedRequest, outcome: ObservedOutcome, started: number) => {
    const id = request.headers[DELIVERY_HEADER]
    const entry = id === undefined ? undefined : contexts.get(id)
    if (id !== undefined) contexts.delete(id)
    const { [DELIVERY_HEADER]: _internal, ...headers } = request.headers
    const redactor = entry?.redactor ?? options.redactor()
    const record = addRecord(entry?.context, redactor, 'sandbox', {
      method: request.method,
      url: request.url.toString(),
      headers,
      body: parseBody(request.rawBody)
    })
    record.response =
      'error' in outcome
        ? { error: outcome.error, durationMs: Date.now() - started }
        : { status: outcome.status, body: redactor.value(outcome.body), durationMs: Date.now() - started }
  }

  const recordLive = (context: RequestContext | undefined, request: ClientRequest) => {
    const redactor = redactorFor(context)
    const chunks: Buffer[] = []
    let size = 0
    const keep = (chunk: unknown) => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function' || size > MAX_CAPTURED_BODY) return
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk))
      size += buffer.length
      chunks.push(buffer)
    }
    const originalWrite = request.write.bind(request)
    const originalEnd = request.end.bind(request)
    request.write = ((chunk: unknown, ...rest: unknown[]) => {
      keep(chunk)
      return (originalWrite as (...args: unknown[]) => boolean)(chunk, ...rest)
    }) as typeof request.write
    request.end = ((chunk?: unknown, ...rest: unknown[]) => {
      keep(chunk)
      const started = Date.now()
      const headers: Record<string, string> = {}
      for (const [name, value] of Object.entries(request.getHeaders()))
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : String(value)
      const url = `${request.protocol}//${request.host}${request.path}`
      const record = addRecord(context, redactor, 'live', {
        method: request.method,
        url,
        headers,
        body: parseBody(Buffer.concat(chunks).toString('utf8'))
      })
      request.once('response', (response) => {
        record.response = { status: response.statusCode ?? 0, body: undefined, durationMs: Date.now() - started }
      })
      request.once('error', (error) => {
        record.response = { error: redactor.text(error.message), durationMs: Date.now() - started }
      })
      return (originalEnd as (...args: unknown[]) => ClientRequest)(chunk, ...rest)
    }) as typeof request.end
  }

  let listeningPort: number | undefined
  const ready = startSimulatorServer(options.simulators, options.faults, observe).then((server) => {
    listeningPort = server.port
    return server
  })
  const agents = installAgents({
    sandboxed: (context) => options.mode === 'sandbox' || context?.forceSandbox === true,
    simulatorPort: () => ready.then((server) => server.port),
    knownSimulatorPort: () => listeningPort,
    register: (context, request, sandboxed) => {
      nextId += 1
      const id = String(nextId)
      if (sandboxed) contexts.set(id, { context, redactor: redactorFor(context) })
      else recordLive(context, request)
      return id
    }
  })

  return {
    ready,
    async dispose() {
      agents.dispose()
      await (await ready).close()
      contexts.clear()
    }
  }
}
