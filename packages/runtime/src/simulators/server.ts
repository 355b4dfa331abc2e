import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FaultBook } from '../transport/faults'
import type { SimulatedResponse, VendorSimulator } from './simulator'

export interface ObservedRequest {
  readonly method: string
  readonly url: URL
  readonly headers: Record<string, string>
  readonly rawBody: string
}

export type ObservedOutcome = { readonly status: number; readonly body: unknown } | { readonly error: string }

export interface SimulatorServer {
  readonly port: number
  readonly url: string
  /**
   * The last 20,000 requests answered with 2xx (vendor host, path and body), so tests can prove nothing was
   * delivered twice. Bounded: a long-running sandbox must not grow with every request (the soak found it did).
   */
  readonly accepted: { readonly host: string; readonly path: string; readonly body: string }[]
  /** Requests being answered now, and the most at once, per vendor host: how hard the runtime pushes a vendor. */
  readonly concurrency: ReadonlyMap<string, { readonly now: number; readonly peak: number }>
  close(): Promise<void>
}

const MAX_ACCEPTED = 20_000

function headersOf(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(request.headers))
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value
  return headers
}

function parse(text: string): unknown {
  if (text === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/**
 * The vendor simulators as a real HTTP server on 127.0.0.1. The runtime's agents send sandboxed requests here
 * over a real socket; the vendor is the request's Host header. Faults happen on that socket: a reset destroys
 * it, a delay holds the answer, a status answers with it.
 */
export async function startSimulatorServer(
  simulators: readonly VendorSimulator[],
  faults: FaultBook,
  observe?: (request: ObservedRequest, outcome: ObservedOutcome, started: number) => void
): Promise<SimulatorServer> {
  const accepted: SimulatorServer['accepted'] = []
  const delayed = new Set<NodeJS.Timeout>()
  const concurrency = new Map<string, { now: number; peak: number }>()
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    const started = Date.now()
    // From the request's headers to the end of its answer (or its socket's end): how many a vendor handles at once.
    const host = (request.headers.host ?? 'unknown.invalid').replace(/:\d+$/, '')
    const load = concurrency.get(host) ?? { now: 0, peak: 0 }
    concurrency.set(host, load)
    load.now += 1
    load.peak = Math.max(load.peak, load.now)
    response.once('close', () => {
      load.now -= 1
    })
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const headers = headersOf(request)
      const url = new URL(`https://${headers.host ?? 'unknown.invalid'}${request.url ?? '/'}`)
      const observed: ObservedRequest = {
        method: request.method ?? 'GET',
        url,
        headers,
        rawBody: Buffer.concat(chunks).toString('utf8')
      }
      const fault = faults.take(url.hostname)
      const answer = () => {
        if (fault?.reset) {
          observe?.(observed, { error: 'connection reset (injected fault)' }, started)
          request.socket.destroy()
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
          const simulator = simulators.find((candidate) => candidate.handles(url))
          simulated = simulator
            ? simulator.answer({
                method: observed.method,
                url,
                headers: new Headers(headers),
                rawBody: observed.rawBody,
                body: parse(observed.rawBody)
              })
            : { status: 502, body: { error: `the sandbox has no simulator for ${url.hostname}` } }
        }
        if (simulated.status >= 200 && simulated.status < 300) {
          accepted.push({ host: url.hostname, path: url.pathname, body: observed.rawBody })
          if (accepted.length > MAX_ACCEPTED) accepted.splice(0, accepted.length - MAX_ACCEPTED)
        }
        observe?.(observed, { status: simulated.status, body: simulated.body }, started)
        const text = simulated.body === undefined ? '' : JSON.stringify(simulated.body)
        response.writeHead(simulated.status, {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(text)),
          ...(simulated.headers ?? {})
        })
        response.end(text)
      }
      if (fault?.delayMs) {
        const timer = setTimeout(() => {
          delayed.delete(timer)
          answer()
        }, fault.delayMs)
        delayed.add(timer)
      } else answer()
    })
  })
  server.keepAliveTimeout = 30_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    accepted,
    concurrency,
    async close() {
      for (const timer of delayed) clearTimeout(timer)
      delayed.clear()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  }
}
