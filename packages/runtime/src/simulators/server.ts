import { createServer, type IncomingMessage } from 'node:http'
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net'
import { Ring } from '../ring'
import type { FaultBook } from '../transport/faults'
import type { SimulatedResponse, VendorSimulator } from './simulator'

/** A request exactly as it arrived: header names in their sent case and order, the body's bytes. */
export interface WireRequest {
  readonly method: string
  readonly path: string
  /** Name, value, name, value, … as Node's `rawHeaders`. */
  readonly rawHeaders: readonly string[]
  readonly body: Buffer
}

export interface SimulatorServerOptions {
  /** Answer with a chunked body (no Content-Length), as most real servers do: what node-fetch misreads on reuse. */
  readonly chunked?: boolean
  /** Sees every request as it arrived on the wire (tests comparing clients byte for byte). */
  readonly onRequest?: (request: WireRequest) => void
  /** How many 2xx requests `accepted` keeps (20,000 by default). */
  readonly keepAccepted?: number
}

export interface SimulatorServer {
  /** The first of `ports`. */
  readonly port: number
  /**
   * Every port the simulators listen on, all serving the same vendors. Several, because Node accepts one connection
   * per listening socket per event-loop turn: the simulators share the runtime's loop, and a burst of new connections
   * on one port waited seconds behind a busy loop (a soak's first requests timed out). Connect round-robin.
   */
  readonly ports: readonly number[]
  readonly url: string
  /**
   * The last `keepAccepted` requests (20,000 by default) answered with 2xx (vendor host, path and body), oldest first,
   * so tests can prove nothing was delivered twice. Bounded: a long-running sandbox must not grow with every request (the soak found it did).
   * Each read is a copy.
   */
  readonly accepted: { readonly host: string; readonly path: string; readonly body: string }[]
  /** Requests being answered now, and the most at once, per vendor host: how hard the runtime pushes a vendor. */
  readonly concurrency: ReadonlyMap<string, { readonly now: number; readonly peak: number }>
  /** Connections accepted and requests received since start: how well clients reuse connections. */
  readonly counters: { readonly connections: number; readonly requests: number }
  close(): Promise<void>
}

const MAX_ACCEPTED = 20_000
const LISTENERS = 16

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
 * The vendor simulators as a real HTTP server on 127.0.0.1. The sandbox transport connects each instance's pool
 * here over a real socket; the vendor is the request's Host header. Faults happen on that socket: a reset destroys
 * it, a delay holds the answer, a status answers with it.
 */
export async function startSimulatorServer(
  simulators: readonly VendorSimulator[],
  faults: FaultBook,
  options: SimulatorServerOptions = {}
): Promise<SimulatorServer> {
  const accepted = new Ring<SimulatorServer['accepted'][number]>(options.keepAccepted ?? MAX_ACCEPTED)
  const delayed = new Set<NodeJS.Timeout>()
  const concurrency = new Map<string, { now: number; peak: number }>()
  const counters = { connections: 0, requests: 0 }
  const server = createServer((request, response) => {
    counters.requests += 1
    const chunks: Buffer[] = []
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
      options.onRequest?.({
        method: request.method ?? 'GET',
        path: request.url ?? '/',
        rawHeaders: [...request.rawHeaders],
        body: Buffer.concat(chunks)
      })
      const headers = headersOf(request)
      const url = new URL(`https://${headers.host ?? 'unknown.invalid'}${request.url ?? '/'}`)
      const observed = {
        method: request.method ?? 'GET',
        url,
        headers,
        rawBody: Buffer.concat(chunks).toString('utf8')
      }
      const fault = faults.take(url.hostname)
      const answer = () => {
        if (fault?.reset) {
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
            : { status: 502, body: { error: `the sandbox has no simulator for ${url.hostname}` } } // none: a caller's own list
        }
        if (simulated.status >= 200 && simulated.status < 300) {
          accepted.add({ host: url.hostname, path: url.pathname, body: observed.rawBody })
        }
        const text = simulated.body === undefined ? '' : JSON.stringify(simulated.body)
        response.writeHead(simulated.status, {
          'content-type': 'application/json',
          ...(options.chunked ? {} : { 'content-length': String(Buffer.byteLength(text)) }),
          ...(simulated.headers ?? {})
        })
        // Without a Content-Length, a body written before `end` goes out chunked.
        if (options.chunked && text !== '') response.write(text)
        response.end(options.chunked ? undefined : text)
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
  // The HTTP server never listens itself: each listener hands it the connections it accepts.
  const sockets = new Set<Socket>()
  const listeners = Array.from({ length: LISTENERS }, () =>
    createNetServer((socket) => {
      counters.connections += 1
      sockets.add(socket)
      socket.once('close', () => sockets.delete(socket))
      server.emit('connection', socket)
    })
  )
  await Promise.all(
    listeners.map((listener) => new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve)))
  )
  const ports = listeners.map((listener) => (listener.address() as AddressInfo).port)
  const port = ports[0] as number
  return {
    port,
    ports,
    url: `http://127.0.0.1:${port}`,
    get accepted() {
      return accepted.toArray()
    },
    concurrency,
    counters,
    async close() {
      for (const timer of delayed) clearTimeout(timer)
      delayed.clear()
      for (const socket of sockets) socket.destroy()
      await Promise.all(listeners.map((listener) => new Promise((resolve) => listener.close(resolve))))
    }
  }
}
