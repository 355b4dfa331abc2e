import {
  Agent as HttpAgent,
  type AgentOptions,
  type ClientRequest,
  request as httpRequest,
  STATUS_CODES
} from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { connect as netConnect, isIP, type Socket } from 'node:net'
import { createSecureContext, rootCertificates, type SecureContext, type TLSSocket } from 'node:tls'
import { brotliDecompressSync, constants as zlib, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib'
import { blockedAddressError, createRedactor, guardedLookup, isBlockedAddress, type Redactor } from '@open-actions/core'
import type { RuntimeMetrics } from '../metrics'
import type { DeliveryRecord, DeliveryRecorder } from './recorder'

/** One request as the runtime's request client hands it to the transport: what goes on the wire. */
export interface ExchangeRequest {
  readonly method: string
  readonly url: string
  /** Header names as they are sent (case kept), in order, each with its values. */
  readonly headers: Readonly<Record<string, readonly string[]>>
  readonly body: Buffer | undefined
  readonly signal: AbortSignal
  /**
   * When given, the caller calls its `onAbort` whenever `signal` aborts (the request client's own deadline), and the
   * transport sets `onAbort` instead of listening on `signal`: Node's abort listener on a request measured 12 µs a
   * request by itself.
   */
  readonly abortable?: Abortable
  /** Decode a gzip, deflate or br body (node-fetch's `compress`). */
  readonly decompress: boolean
}

/** See `ExchangeRequest.abortable`. */
export interface Abortable {
  onAbort: (() => void) | undefined
}

/** What Node's HTTP client raises for a request aborted through its signal. */
function abortError(reason: unknown): Error {
  return Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR', cause: reason })
}

export interface ExchangeResponse {
  readonly status: number
  readonly statusText: string
  readonly headers: Readonly<Record<string, readonly string[]>>
  readonly body: Buffer
}

export type HttpExchange = (request: ExchangeRequest) => Promise<ExchangeResponse>

/** Who a request is for, so the recorder can show it with its delivery. */
export interface ExchangeContext {
  readonly action: string | undefined
  readonly eventIds: readonly string[]
  /** Requests made in this context are also collected here (the event tester's view). */
  readonly capture?: DeliveryRecord[]
  /** Secrets known only to this context (settings typed into the event tester), redacted too. */
  readonly secrets?: readonly string[]
}

export interface InstanceTransportOptions {
  readonly instance: string
  /** `sandbox`: every origin is answered by the vendor simulators on 127.0.0.1. `live`: the real hosts. */
  readonly mode: 'sandbox' | 'live'
  /** Connections per origin, at most: the instance's `maxConcurrent`. */
  readonly connections: number
  /** The simulator server's ports (sandbox): connections are spread over them. */
  readonly simulatorPorts?: readonly number[]
  /** Live only: let requests reach private, loopback and link-local addresses (off: refused, SSRF). */
  readonly allowPrivateNetworks?: boolean
  /** Live only: certificate authorities (PEM) trusted besides Node's own. */
  readonly extraCa?: string
  readonly recorder: DeliveryRecorder
  readonly redactor: () => Redactor
  readonly metrics: RuntimeMetrics
}

const MAX_CAPTURED_BODY = 256 * 1024
/** Idle connections are closed after this (or sooner when the server's Keep-Alive header says it closes sooner). */
const IDLE_TIMEOUT_MS = 4_000

function parseBody(buffer: Buffer | undefined): unknown {
  if (!buffer || buffer.length === 0) return undefined
  const text = buffer.subarray(0, MAX_CAPTURED_BODY).toString('utf8')
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/**
 * Sets `key` of `target` to a value computed on first read, then kept: a captured body is parsed and redacted when
 * someone looks at it (the API, the console, a deletion), not on every request. Redacted with the redactor of the
 * moment it was captured; enumerable, so JSON and spreads see it as a plain value.
 */
function lazily(target: object, key: string, compute: () => unknown): void {
  let computed = false
  let value: unknown
  Object.defineProperty(target, key, {
    enumerable: true,
    configurable: true,
    get() {
      if (!computed) {
        value = compute()
        computed = true
      }
      return value
    }
  })
}

/** node-fetch's decoding of a compressed answer (lenient about truncated streams, as cURL is). */
function decode(body: Buffer, encoding: string | undefined): Buffer {
  if (body.length === 0 || encoding === undefined) return body
  const lenient = { flush: zlib.Z_SYNC_FLUSH, finishFlush: zlib.Z_SYNC_FLUSH }
  const coding = encoding.trim().toLowerCase()
  if (coding === 'gzip' || coding === 'x-gzip') return gunzipSync(body, lenient)
  if (coding === 'deflate' || coding === 'x-deflate')
    return (body[0] ?? 0) % 16 === 8 ? inflateSync(body, lenient) : inflateRawSync(body, lenient)
  if (coding === 'br') return brotliDecompressSync(body)
  return body
}

/** What node-fetch raises for a failed connection, so integrations and core read it the same whichever client sent. */
function networkError(url: string, error: unknown): Error {
  const cause = error as { code?: string; message?: string; name?: string }
  if (cause?.name === 'AbortError') return error as Error
  return Object.assign(new Error(`request to ${url} failed, reason: ${cause?.message ?? String(error)}`), {
    name: 'FetchError',
    type: 'system',
    code: cause?.code,
    errno: cause?.code
  })
}

type Connect = (
  options: { host?: string; hostname?: string },
  callback: (error: Error | null, socket?: Socket) => void
) => Socket | undefined

/** The agent method Node calls to open a connection: its documented extension point, set on the instance. */
function withConnection<Agent extends HttpAgent>(agent: Agent, connect: (original: Connect) => Connect): Agent {
  const internals = agent as unknown as { createConnection: Connect }
  internals.createConnection = connect(internals.createConnection.bind(agent))
  return agent
}

/**
 * The HTTP transport of one destination instance: Node's own HTTP client over keep-alive agents that belong to this
 * instance alone (at most `connections` sockets per origin, reused by every request of the instance), never a
 * process-global agent. Responses are read here in full (an answer cut short fails; a chunked answer on a reused
 * socket is read like any other), not by node-fetch. In sandbox mode each connection goes to the simulator server on
 * loopback (the vendor is the Host header), so the sandbox exercises the same pools; in live mode connections go to
 * the real hosts, refusing private addresses unless `allowPrivateNetworks`. Every request is recorded (redacted).
 */
export class InstanceTransport {
  /** Connections opened and TLS handshakes made (live) by this instance since it started. */
  readonly counters = { connections: 0, tlsHandshakes: 0 }
  private readonly agents: { readonly http: HttpAgent; readonly https: HttpsAgent }
  private readonly labels: { readonly instance: string; readonly transport: string }
  private readonly tls: { readonly secureContext?: SecureContext }

  constructor(private readonly options: InstanceTransportOptions) {
    // One TLS context for all of the instance's connections: building one from ~150 authorities costs ~20 ms.
    this.tls =
      options.extraCa === undefined
        ? {}
        : { secureContext: createSecureContext({ ca: [...rootCertificates, options.extraCa] }) }
    const pool: AgentOptions = {
      keepAlive: true,
      maxSockets: options.connections,
      // Most recently used first: under light load a few warm sockets serve everything and the rest expire.
      scheduling: 'lifo',
      timeout: IDLE_TIMEOUT_MS
    }
    this.agents = {
      http: this.route(new HttpAgent(pool), false),
      https: this.route(new HttpsAgent({ ...pool, maxCachedSessions: 100, ...this.tls }), true)
    }
    this.labels = { instance: options.instance, transport: options.mode }
  }

  private get guarded(): boolean {
    return this.options.mode === 'live' && this.options.allowPrivateNetworks !== true
  }

  /** Where an agent's connections go: the simulators (sandbox), or the real host with the egress guard (live). */
  private route<Agent extends HttpAgent>(agent: Agent, tls: boolean): Agent {
    return withConnection(agent, (original) => (connectOptions, callback) => {
      if (this.options.mode === 'sandbox') {
        const ports = this.options.simulatorPorts ?? []
        const port = ports[this.counters.connections % Math.max(1, ports.length)]
        if (port === undefined) {
          callback(new Error('the sandbox transport needs the simulator server’s ports'))
          return undefined
        }
        this.opened()
        return netConnect({ port, host: '127.0.0.1' })
      }
      const host = (connectOptions.host ?? connectOptions.hostname ?? '').replace(/^\[|\]$/g, '')
      // A name is checked as it resolves (guardedLookup); an IP literal never resolves, so it is checked here.
      if (this.guarded && isIP(host) !== 0 && isBlockedAddress(host)) {
        callback(blockedAddressError(host, host))
        return undefined
      }
      const socket = original({ ...connectOptions, ...(this.guarded ? { lookup: guardedLookup } : {}) }, callback)
      this.opened()
      if (tls) (socket as TLSSocket | undefined)?.once('secureConnect', () => this.handshake())
      return socket
    })
  }

  private opened(): void {
    this.counters.connections += 1
    this.options.metrics.outboundConnections.inc(this.labels)
  }

  private handshake(): void {
    this.counters.tlsHandshakes += 1
    this.options.metrics.tlsHandshakes.inc(this.labels)
  }

  private redactorFor(context: ExchangeContext): Redactor {
    return context.secrets?.length
      ? createRedactor([...this.options.redactor().secrets, ...context.secrets])
      : this.options.redactor()
  }

  private record(
    context: ExchangeContext,
    redactor: Redactor,
    request: { method: string; url: URL; headers: Record<string, string>; body: Buffer | undefined }
  ): DeliveryRecord {
    const record = this.options.recorder.add({
      at: new Date().toISOString(),
      transport: this.options.mode,
      instance: this.options.instance,
      action: context.action,
      eventIds: context.eventIds,
      method: request.method,
      url: redactor.text(request.url.toString()),
      headers: redactor.headers(request.headers),
      body: undefined
    })
    const bytes = request.body
    lazily(record, 'body', () => redactor.value(parseBody(bytes)))
    context.capture?.push(record)
    this.options.metrics.outboundRequests.inc({ host: request.url.hostname, ...this.labels })
    return record
  }

  /** The exchange function for requests made on behalf of `context`. */
  exchange(context: ExchangeContext): HttpExchange {
    return (request) => this.send(request, context)
  }

  private send(request: ExchangeRequest, context: ExchangeContext): Promise<ExchangeResponse> {
    const url = new URL(request.url)
    const started = Date.now()
    const redactor = this.redactorFor(context)
    const shown: Record<string, string> = {}
    for (const [name, values] of Object.entries(request.headers)) shown[name.toLowerCase()] = values.join(', ')
    const record = this.record(context, redactor, { method: request.method, url, headers: shown, body: request.body })
    const https = url.protocol === 'https:'
    const headers: Record<string, string | string[]> = {}
    for (const [name, values] of Object.entries(request.headers))
      headers[name] = values.length === 1 ? (values[0] as string) : [...values]
    const abortable = request.abortable
    return new Promise<ExchangeResponse>((resolve, reject) => {
      const fail = (error: unknown) => {
        if (abortable) abortable.onAbort = undefined
        const failure = networkError(url.toString(), error)
        record.response = { error: redactor.text(failure.message), durationMs: Date.now() - started }
        reject(failure)
      }
      if (abortable && request.signal.aborted) {
        fail(abortError(request.signal.reason))
        return
      }
      let sent: ClientRequest
      try {
        sent = (https ? httpsRequest : httpRequest)(url, {
          method: request.method,
          headers,
          agent: https ? this.agents.https : this.agents.http,
          ...(abortable ? {} : { signal: request.signal })
        })
      } catch (error) {
        fail(error)
        return
      }
      if (abortable) abortable.onAbort = () => sent.destroy(abortError(request.signal.reason))
      sent.once('error', fail)
      sent.once('response', (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.once('error', fail)
        response.once('end', () => {
          // An answer cut short (the connection closed mid-body) is a failure; a complete one, chunked or not, is not.
          if (!response.complete) return fail(new Error('the connection closed before the answer was complete'))
          const status = response.statusCode ?? 0
          const responseHeaders: Record<string, string[]> = {}
          for (let index = 0; index < response.rawHeaders.length; index += 2) {
            const name = (response.rawHeaders[index] ?? '').toLowerCase()
            ;(responseHeaders[name] ??= []).push(response.rawHeaders[index + 1] ?? '')
          }
          let body: Buffer = Buffer.concat(chunks)
          const decodable = request.decompress && request.method !== 'HEAD' && status !== 204 && status !== 304
          try {
            if (decodable) body = decode(body, responseHeaders['content-encoding']?.[0])
          } catch (error) {
            return fail(error)
          }
          const answered = { status, body: undefined as unknown, durationMs: Date.now() - started }
          const received = body
          lazily(answered, 'body', () => redactor.value(parseBody(received)))
          record.response = answered
          if (abortable) abortable.onAbort = undefined
          resolve({
            status,
            statusText: response.statusMessage ?? STATUS_CODES[status] ?? '',
            headers: responseHeaders,
            body
          })
        })
      })
      if (request.body === undefined) sent.end()
      else sent.end(request.body)
    })
  }

  /**
   * For a call that runs through actions-core's own client (node-fetch): a new agent for one request, with no connection
   * reuse (node-fetch misreads a chunked answer on a reused socket as "Premature close"), routed like this instance's
   * pools (sandbox: the simulators; live: the real host, guarded) and recorded the same way.
   */
  agentFor(url: URL, context: ExchangeContext): HttpAgent {
    const tls = url.protocol === 'https:'
    const agent = this.route(
      tls ? new HttpsAgent({ keepAlive: false, ...this.tls }) : new HttpAgent({ keepAlive: false }),
      tls
    )
    const internals = agent as unknown as { addRequest: (request: ClientRequest, options: unknown) => void }
    const addRequest = internals.addRequest.bind(agent)
    internals.addRequest = (request, requestOptions) => {
      this.recordNodeRequest(request, context)
      addRequest(request, requestOptions)
    }
    return agent
  }

  private recordNodeRequest(request: ClientRequest, context: ExchangeContext): void {
    const redactor = this.redactorFor(context)
    const chunks: Buffer[] = []
    const keep = (chunk: unknown) => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function') return
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)))
    }
    const write = request.write.bind(request)
    const end = request.end.bind(request)
    request.write = ((chunk: unknown, ...rest: unknown[]) => {
      keep(chunk)
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest)
    }) as typeof request.write
    request.end = ((chunk?: unknown, ...rest: unknown[]) => {
      keep(chunk)
      const started = Date.now()
      const headers: Record<string, string> = {}
      for (const [name, value] of Object.entries(request.getHeaders()))
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : String(value)
      const record = this.record(context, redactor, {
        method: request.method,
        url: new URL(`${request.protocol}//${request.host}${request.path}`),
        headers,
        body: Buffer.concat(chunks)
      })
      request.once('response', (response) => {
        record.response = { status: response.statusCode ?? 0, body: undefined, durationMs: Date.now() - started }
      })
      request.once('error', (error) => {
        record.response = { error: redactor.text(error.message), durationMs: Date.now() - started }
      })
      return (end as (...args: unknown[]) => ClientRequest)(chunk, ...rest)
    }) as typeof request.end
  }

  /** Closes every connection of this instance (requests still in flight fail). */
  async close(): Promise<void> {
    this.agents.http.destroy()
    this.agents.https.destroy()
  }
}
