import {
  Headers,
  HTTPError,
  type ModifiedResponse,
  type RequestClient,
  type RequestOptions,
  Request,
  RequestTimeoutError,
  Response
} from '@segment/actions-core'
import type { HttpExchange } from './http-transport'

/*
 * actions-core's request client (`createRequestClient`, 3.170.0: request-client.js and its middleware), rebuilt so the
 * bytes leave through the runtime's own HTTP transport (per-instance connection pools) instead of node-fetch, which
 * actions-core offers no way to replace. Everything a definition can observe is kept: option merging, the Basic-auth
 * and response middleware, `json`/`searchParams`, `throwHttpErrors` and `HTTPError`, the 10 s default timeout (off when
 * a `signal` is given), and node-fetch's own request defaults (Accept, Content-Length, Accept-Encoding, redirects).
 * Requests and responses are actions-core's own `Request`/`Response` classes, so `instanceof` checks in actions-core
 * (a `performBatch` returning a response) behave the same. The differential test compares the bytes for every preset.
 */

const DEFAULT_TIMEOUT = 10_000
const MAX_REDIRECTS = 20

type Hook = (options: Options) => unknown
type AfterHook = (request: Request, options: Options, response: Response) => unknown

interface Options extends Record<string, unknown> {
  headers?: Headers | Record<string, string>
  method?: string
  json?: unknown
  body?: unknown
  searchParams?: URLSearchParams | Record<string, string | number | boolean>
  throwHttpErrors?: boolean
  timeout?: number | false
  signal?: AbortSignal
  username?: string
  password?: string
  skipResponseCloning?: boolean
  redirect?: 'follow' | 'manual' | 'error'
  follow?: number
  compress?: boolean
  beforeRequest?: Hook[]
  afterResponse?: AfterHook[]
}

const isObjectLike = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object'
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  Object.prototype.toString.call(value) === '[object Object]'

function mergeHeaders(first: unknown, second: unknown): Headers {
  const result = new Headers((first ?? {}) as Record<string, string>)
  new Headers((second ?? {}) as Record<string, string>).forEach((value, key) => {
    // actions-core's convention: a header set to the string "undefined" removes it.
    if (value === 'undefined') result.delete(key)
    else result.set(key, value)
  })
  return result
}

/** actions-core's `merge`: objects merged deeply, arrays concatenated, headers merged as headers. */
function merge(...sources: unknown[]): Options {
  let result: Record<string, unknown> = {}
  let headers: Headers | Record<string, never> = {}
  for (const source of sources) {
    if (Array.isArray(source)) {
      if (!Array.isArray(result)) result = [] as unknown as Record<string, unknown>
      result = [...(result as unknown as unknown[]), ...source] as unknown as Record<string, unknown>
    } else if (isObjectLike(source)) {
      for (const [key, entry] of Object.entries(source)) {
        let value = entry
        if (isObjectLike(value) && key in result) value = merge(result[key], value)
        result[key] = value
      }
      if (isObjectLike(source.headers)) headers = mergeHeaders(headers, source.headers)
    }
    result.headers = headers
  }
  return result as Options
}

function mergeOptions(...sources: unknown[]): Options {
  for (const source of sources)
    if (!isPlainObject(source) && !(isObjectLike(source) && !Array.isArray(source)))
      throw new TypeError(`The 'options' argument must be an object`)
  return merge({}, ...sources)
}

/** actions-core's Basic-auth middleware. */
function addBasicAuthHeader(options: Options): Options | undefined {
  if (!options.username && !options.password) return undefined
  const encoded = Buffer.from(`${options.username ?? ''}:${options.password ?? ''}`, 'binary').toString('base64')
  return { headers: { Authorization: `Basic ${encoded}` } }
}

/**
 * The bytes of each response the transport read, so `prepareResponse` decodes them as `text()` would without cloning
 * and reading the response (which stays unread for the action, as after actions-core's clone).
 */
const bodies = new WeakMap<Response, Buffer>()

/** actions-core's response middleware: `content` and `data`, the body read once. */
async function prepareResponse(_request: Request, options: Options, response: Response): Promise<Response> {
  const modified = response as ModifiedResponse
  const known = bodies.get(response)
  // The runtime's responses are read into memory, so a clone costs no tee (skipResponseCloning changes nothing here).
  const content =
    known !== undefined && !response.bodyUsed
      ? known.toString()
      : await (options.skipResponseCloning ? response : response.clone()).text()
  let data: unknown
  try {
    data = response.headers.get('content-type')?.includes('application/json') ? JSON.parse(content) : content
  } catch {
    data = undefined
  }
  Object.assign(modified, { content, data })
  return modified
}

/** actions-core's header middleware: `response.headers` serializes to a plain object. */
function prepareHeaders(_request: Request, _options: Options, response: Response): Response {
  Object.defineProperty(response.headers, 'toJSON', {
    enumerable: false,
    value: () => {
      const headers: Record<string, string> = {}
      response.headers.forEach((value, name) => {
        headers[name] = value
      })
      return headers
    }
  })
  return response
}

/** Node's longest timer: `setTimeout` fires a longer one at once. */
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * The timeouts of requests in flight, one queue per duration (almost always the 10 s default) with one timer each,
 * re-armed only when it fires. A `setTimeout` and `clearTimeout` per request, raced against the request, measured
 * 20–40 µs on a ~120 µs loopback exchange (one at a time, the timer list of that duration is emptied and rebuilt on
 * every request). Requests of one duration start in order, so they expire in order: the timer waits for the oldest
 * unsettled one and fires it at its deadline, as its own timer would have.
 */
class Deadlines {
  private readonly queues = new Map<number, { entries: Deadline[]; head: number; timer?: NodeJS.Timeout }>()

  /** Calls `expire` `ms` from now unless the returned deadline is settled first. */
  add(ms: number, expire: () => void): Deadline {
    let queue = this.queues.get(ms)
    if (!queue) {
      queue = { entries: [], head: 0 }
      this.queues.set(ms, queue)
    }
    const deadline = new Deadline(performance.now() + ms, expire, queue)
    queue.entries.push(deadline)
    if (!queue.timer) this.arm(ms, queue, ms)
    return deadline
  }

  private arm(ms: number, queue: { entries: Deadline[]; head: number; timer?: NodeJS.Timeout }, wait: number): void {
    // Unreferenced: a deadline alone never keeps the process up (the request's socket does while it is open). At most
    // Node's longest timer (about 24.8 days), re-armed from there: a longer wait would fire at once, and again.
    queue.timer = setTimeout(() => this.fire(ms, queue), Math.min(Math.max(0, wait), MAX_TIMER_MS)).unref()
  }

  private fire(ms: number, queue: { entries: Deadline[]; head: number; timer?: NodeJS.Timeout }): void {
    queue.timer = undefined
    const now = performance.now()
    while (queue.head < queue.entries.length) {
      const deadline = queue.entries[queue.head] as Deadline
      if (!deadline.settled && deadline.at > now) break
      queue.head += 1
      deadline.expire()
    }
    Deadlines.compact(queue)
    const next = queue.entries[queue.head]
    if (next) this.arm(ms, queue, next.at - now)
    else this.queues.delete(ms)
  }

  /** Drops settled deadlines from the front, so a queue holds only what is still in flight (or just behind it). */
  static compact(queue: { entries: Deadline[]; head: number }): void {
    while (queue.head < queue.entries.length && (queue.entries[queue.head] as Deadline).settled) queue.head += 1
    if (queue.head === queue.entries.length) {
      queue.entries.length = 0
      queue.head = 0
    } else if (queue.head > 1024 && queue.head * 2 > queue.entries.length) {
      queue.entries.splice(0, queue.head)
      queue.head = 0
    }
  }
}

class Deadline {
  settled = false

  constructor(
    readonly at: number,
    private onExpire: (() => void) | undefined,
    private readonly queue: { entries: Deadline[]; head: number }
  ) {}

  expire(): void {
    const onExpire = this.onExpire
    this.settle()
    onExpire?.()
  }

  settle(): void {
    if (this.settled) return
    this.settled = true
    this.onExpire = undefined
    if (this.queue.entries[this.queue.head] === this) Deadlines.compact(this.queue)
  }
}

const deadlines = new Deadlines()

function timeoutError(timeout: number): Error {
  return Object.assign(new Error(`Request timed out after ${timeout}ms`), { name: 'TimeoutError', code: 'ETIMEDOUT' })
}

function abortedError(): Error {
  return Object.assign(new Error('Request was aborted'), {
    name: 'RequestClientError',
    code: 'REQUESTCLIENTERROR',
    status: 408
  })
}

/**
 * The headers as node-fetch sends them: its `Headers` keeps each name as first given (`raw()`); `forEach` would
 * lower-case and sort them.
 */
function rawHeaders(headers: Headers): Record<string, string[]> {
  const raw = (headers as unknown as { raw?: () => Record<string, string[]> }).raw
  if (typeof raw === 'function') return raw.call(headers)
  const values: Record<string, string[]> = {}
  headers.forEach((value, name) => {
    values[name] = [value]
  })
  return values
}

/** Sends one request through the transport, following redirects as node-fetch does. */
async function send(
  request: Request,
  options: Options,
  exchange: HttpExchange,
  signal: AbortSignal,
  known: Buffer | undefined
): Promise<Response> {
  let url = request.url
  let method = request.method
  let body: Buffer | undefined = ['GET', 'HEAD'].includes(method)
    ? undefined
    : (known ?? Buffer.from(await request.clone().arrayBuffer()))
  if (body !== undefined && body.length === 0 && request.body === null) body = undefined
  const headers = new Headers(request.headers)
  // node-fetch's defaults (getNodeRequestOptions), with its header names.
  if (!headers.has('Accept')) headers.set('Accept', '*/*')
  if (body === undefined && /^(POST|PUT)$/i.test(method)) headers.set('Content-Length', '0')
  if (body !== undefined) headers.set('Content-Length', String(body.length))
  if (!headers.has('User-Agent')) headers.set('User-Agent', 'node-fetch/1.0 (+https://github.com/bitinn/node-fetch)')
  const compress = options.compress !== false
  if (compress && !headers.has('Accept-Encoding')) headers.set('Accept-Encoding', 'gzip,deflate')
  const redirect = options.redirect ?? 'follow'
  const maxRedirects = options.follow ?? MAX_REDIRECTS
  for (let redirects = 0; ; redirects += 1) {
    const answer = await exchange({ method, url, headers: rawHeaders(headers), body, signal, decompress: compress })
    const location = answer.headers.location?.[0]
    if ([301, 302, 303, 307, 308].includes(answer.status) && location !== undefined && redirect !== 'manual') {
      if (redirect === 'error')
        throw Object.assign(
          new Error(`uri requested responds with a redirect, redirect mode is set to error: ${url}`),
          {
            name: 'FetchError',
            type: 'no-redirect'
          }
        )
      if (redirects >= maxRedirects)
        throw Object.assign(new Error(`maximum redirect reached at: ${url}`), {
          name: 'FetchError',
          type: 'max-redirect'
        })
      url = new URL(location, url).toString()
      if (answer.status === 303 || ((answer.status === 301 || answer.status === 302) && method === 'POST')) {
        method = 'GET'
        body = undefined
        headers.delete('Content-Length')
      }
      continue
    }
    // Name-value pairs in the order received: the Response builds its one Headers from them (appending each).
    const responseHeaders: [string, string][] = []
    for (const [name, values] of Object.entries(answer.headers))
      for (const value of values) responseHeaders.push([name, value])
    const response = new Response(
      answer.body as unknown as ConstructorParameters<typeof Response>[0],
      {
        url,
        status: answer.status,
        statusText: answer.statusText,
        headers: responseHeaders,
        counter: redirects
      } as ConstructorParameters<typeof Response>[1]
    )
    bodies.set(response, answer.body)
    return response
  }
}

const EMPTY = Buffer.alloc(0)

/** A JSON body and nothing that changes the request between actions-core's two passes (no body, no search params). */
const jsonBodyOnly = (options: Options): boolean =>
  options.json !== undefined && options.body === undefined && !options.searchParams

class RuntimeRequest {
  private options!: Options
  private request!: Request
  private controller!: AbortController
  /** The body's bytes when they are known without reading the request (a string, a Buffer, none). */
  private bodyBytes: Buffer | undefined

  /** The `beforeRequest` hooks have been applied already (see the constructor). */
  private readonly hooksApplied: boolean

  constructor(
    url: string,
    options: Options,
    private readonly exchange: HttpExchange
  ) {
    const hooks = options.beforeRequest ?? []
    if (hooks.length > 0 && hooks.every((hook) => hook === addBasicAuthHeader) && jsonBodyOnly(options)) {
      // Only the built-in Basic-auth hook, which reads nothing `setOptions` changes, and a JSON body: actions-core
      // builds the request, calls the hook, merges its answer and builds the request again (the body then set twice);
      // the same request in one pass, the second pass's header order and names kept (`secondPass`).
      let merged = options
      for (const hook of hooks) {
        const next = hook(merged)
        if (isPlainObject(next)) merged = mergeOptions(merged, next)
      }
      this.setOptions(url, merged, merged !== options)
      this.hooksApplied = true
    } else {
      this.setOptions(url, options)
      this.hooksApplied = false
    }
  }

  /**
   * actions-core's `setOptions`. `secondPass`: build what its second call (after a hook answered) builds from the
   * options of its first, which for a JSON body differs from the first in one way: the request is rebuilt from a
   * string body, so a `Content-Type` absent until then is added under node-fetch's name before being set to JSON.
   */
  private setOptions(url: string, options: Options, secondPass = false): void {
    this.options = {
      ...options,
      method: (options.method ?? 'get').toUpperCase(),
      throwHttpErrors: options.throwHttpErrors !== false
    }
    this.controller = new AbortController()
    if (this.options.signal) {
      this.options.timeout = options.timeout ?? false
      this.options.signal = AbortSignal.any([this.controller.signal, this.options.signal])
    } else {
      this.options.timeout = options.timeout ?? DEFAULT_TIMEOUT
      // actions-core combines its controller's signal with none (`AbortSignal.any` of one): the same signal in effect.
      this.options.signal = this.controller.signal
    }
    this.bodyBytes = undefined
    if (this.options.json !== undefined && this.options.body === undefined && !this.options.searchParams) {
      // What actions-core builds in three steps (a Request, its headers' content-type set, a Request with the body),
      // built in one: the same headers in the same order, the same body.
      const headers = new Headers(this.options.headers as Record<string, string> | undefined)
      if (secondPass && !headers.has('Content-Type')) headers.append('Content-Type', 'text/plain;charset=UTF-8')
      headers.set('content-type', 'application/json')
      const body = JSON.stringify(this.options.json)
      this.options.body = body
      this.request = new Request(url, { ...this.options, headers, body } as ConstructorParameters<typeof Request>[1])
      this.bodyBytes = Buffer.from(body)
      return
    }
    this.request = new Request(url, this.options as ConstructorParameters<typeof Request>[1])
    if (this.options.searchParams) {
      const target = new URL(this.request.url)
      target.search = new URLSearchParams(this.options.searchParams as Record<string, string>).toString()
      this.request = new Request(
        new Request(target.toString(), this.request),
        this.options as ConstructorParameters<typeof Request>[1]
      )
    }
    if (this.options.json !== undefined) {
      this.options.body = JSON.stringify(this.options.json)
      this.request.headers.set('content-type', 'application/json')
      this.request = new Request(this.request, { body: this.options.body as string })
    }
    const body = this.options.body
    if (body === undefined || body === null) this.bodyBytes = EMPTY
    else if (typeof body === 'string') this.bodyBytes = Buffer.from(body)
    else if (Buffer.isBuffer(body)) this.bodyBytes = body
  }

  async execute(): Promise<Response> {
    let response: Response
    try {
      response = await this.fetch()
    } catch (error) {
      if ((error as { name?: unknown }).name === 'AbortError' || this.options.signal?.aborted) {
        const reason = this.options.signal?.reason as { name?: unknown } | undefined
        if (reason?.name === 'TimeoutError') throw new RequestTimeoutError()
        if ((error as { name?: unknown }).name !== 'TimeoutError') throw abortedError()
      }
      throw error
    }
    for (const hook of this.options.afterResponse ?? []) {
      const modified = await hook(this.request, this.options, response)
      if (modified instanceof Response) response = modified
    }
    if (!response.ok && this.options.throwHttpErrors)
      throw new HTTPError(response, this.request, this.options as ConstructorParameters<typeof HTTPError>[2])
    return response
  }

  private async fetch(): Promise<Response> {
    for (const hook of this.hooksApplied ? [] : (this.options.beforeRequest ?? [])) {
      const next = await hook({ ...this.options })
      if (isPlainObject(next)) this.setOptions(this.request.url, mergeOptions(this.options, next))
    }
    const signal = this.options.signal as AbortSignal
    const timeout = this.options.timeout
    if (timeout === false || timeout === undefined)
      return send(this.request, this.options, this.exchange, signal, this.bodyBytes)
    // At the deadline the request is aborted and fails with the timeout, as when a timer raced it (the race against a
    // pending promise measured 20–25 µs per request by itself).
    let timedOut = false
    const deadline = deadlines.add(timeout, () => {
      timedOut = true
      this.controller.abort()
    })
    let response: Response
    try {
      response = await send(this.request, this.options, this.exchange, signal, this.bodyBytes)
    } catch (error) {
      throw timedOut ? timeoutError(timeout) : error
    } finally {
      deadline.settle()
    }
    // An answer that completed after the deadline passed still lost the race.
    if (timedOut) throw timeoutError(timeout)
    return response
  }
}

type Client = RequestClient & { extend(defaults: Record<string, unknown>): Client }

function createInstance(exchange: HttpExchange, defaults: Options): Client {
  const client = ((url: string, options: RequestOptions = {}) =>
    new RuntimeRequest(url, mergeOptions(defaults, options), exchange).execute()) as unknown as Client
  client.extend = (next) => createInstance(exchange, mergeOptions(defaults, next))
  return client
}

/**
 * A request client with actions-core's `createRequestClient(...options)` semantics whose requests go through
 * `exchange`: the defaults actions-core's base client has, then each options object in turn.
 */
export function createRuntimeRequestClient(exchange: HttpExchange, ...requestOptions: unknown[]): RequestClient {
  let client = createInstance(exchange, {
    headers: { 'user-agent': 'Segment (Actions)' },
    beforeRequest: [addBasicAuthHeader],
    afterResponse: [prepareResponse, prepareHeaders]
  } as Options)
  for (const options of requestOptions) client = client.extend(options as Record<string, unknown>)
  return (url, options) => client(url, options)
}
