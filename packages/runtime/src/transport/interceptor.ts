import { ClientRequestInterceptor } from '@mswjs/interceptors/ClientRequest'
import { createRedactor, type Redactor } from '@open-actions/core'
import type { Metrics } from '../metrics'
import type { SimulatedResponse, VendorSimulator } from '../simulators'
import type { FaultBook } from './faults'
import { type DeliveryRecord, type DeliveryRecorder, requestContext } from './recorder'

export interface TransportOptions {
  /** `sandbox`: answered in-process by vendor simulators. `live`: real HTTP, still recorded. */
  readonly mode: 'sandbox' | 'live'
  readonly recorder: DeliveryRecorder
  readonly redactor: () => Redactor
  readonly simulators: readonly VendorSimulator[]
  readonly faults: FaultBook
  readonly metrics: Metrics
}

export interface Transport {
  dispose(): void
}

function parseBody(text: string): unknown {
  if (text === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

function headersObject(headers: Headers): Record<string, string> {
  const result: Record<string, string> = {}
  headers.forEach((value, name) => {
    result[name] = value
  })
  return result
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function toResponse(simulated: SimulatedResponse): Response {
  const hasBody = simulated.body !== undefined && simulated.status !== 204 && simulated.status !== 304
  return new Response(hasBody ? JSON.stringify(simulated.body) : null, {
    status: simulated.status,
    headers: { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...(simulated.headers ?? {}) }
  })
}

/**
 * Intercepts every outbound HTTP request of the process (with @mswjs/interceptors, the library nock is built on)
 * to record it, redacted, against the delivery that made it; in sandbox mode, answers it with the vendor's
 * simulator (after any injected fault) so nothing leaves the machine.
 */
export function installTransport(options: TransportOptions): Transport {
  const interceptor = new ClientRequestInterceptor()
  const pending = new Map<string, { record: DeliveryRecord; started: number; redactor: Redactor }>()
  interceptor.apply()

  interceptor.on('request', async ({ request, requestId, controller }) => {
    const context = requestContext.getStore()
    const redactor = context?.secrets?.length
      ? createRedactor([...options.redactor().secrets, ...context.secrets])
      : options.redactor()
    const rawBody = await request.clone().text()
    const url = new URL(request.url)
    const sandboxed = options.mode === 'sandbox' || context?.forceSandbox === true
    const record = options.recorder.add({
      at: new Date().toISOString(),
      transport: sandboxed ? 'sandbox' : 'live',
      instance: context?.instance,
      action: context?.action,
      eventIds: context?.eventIds ?? [],
      method: request.method,
      url: redactor.text(request.url),
      headers: redactor.headers(headersObject(request.headers)),
      body: redactor.value(parseBody(rawBody))
    })
    context?.capture?.push(record)
    const started = Date.now()
    options.metrics.increment('open_actions_outbound_requests_total', 'Outbound vendor requests.', {
      host: url.hostname,
      transport: record.transport
    })
    if (!sandboxed) {
      pending.set(requestId, { record, started, redactor })
      return
    }

    const fault = options.faults.take(url.hostname)
    if (fault?.delayMs) await sleep(fault.delayMs)
    if (fault?.reset) {
      record.response = { error: 'connection reset (injected fault)', durationMs: Date.now() - started }
      controller.errorWith(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))
      return
    }
    let simulated: SimulatedResponse
    if (fault?.status !== undefined) {
      simulated = {
        status: fault.status,
        body: fault.body ?? { error: `injected fault: HTTP ${fault.status}` },
        headers: fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) }
      }
    } else {
      const simulator = options.simulators.find((candidate) => candidate.handles(url))
      simulated = simulator
        ? simulator.answer({ method: request.method, url, headers: request.headers, rawBody, body: parseBody(rawBody) })
        : { status: 502, body: { error: `the sandbox has no simulator for ${url.hostname}` } }
    }
    record.response = {
      status: simulated.status,
      body: redactor.value(simulated.body),
      durationMs: Date.now() - started
    }
    controller.respondWith(toResponse(simulated))
  })

  interceptor.on('response', async ({ response, requestId }) => {
    const entry = pending.get(requestId)
    if (!entry) return
    pending.delete(requestId)
    const text = await response
      .clone()
      .text()
      .catch(() => '')
    entry.record.response = {
      status: response.status,
      body: entry.redactor.value(parseBody(text)),
      durationMs: Date.now() - entry.started
    }
  })

  return {
    dispose() {
      interceptor.dispose()
      pending.clear()
    }
  }
}
