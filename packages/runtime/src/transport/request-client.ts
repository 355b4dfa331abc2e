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
import type { Abortable, HttpExchange } from './http-transport'

/*
 * actions-core's request client (`createRequestClient`, 3.170.0: request-client.js and its middleware), rebuilt so the
 * bytes leave through the runtime's own HTTP transport (per-instance connection pools) instead of node-fetch, which
 * actions-core offers no way to replace. Everything a definition can observe is kept: option merging, the Basic-auth
 * and response middleware, `json`/`searchParams`, `throwHttpErrors` and `HTTPError`, the 10 s default timeout (off when
 * a `signal` is given), and node-fetch's own request defaults (Accept, Content-Length, Accept-Encoding, redirects).
 * Responses are actions-core's own `Response` class, so `instanceof` checks in actions-core (a `performBatch` returning
 * a response) behave the same; requests are built on node-fetch's header record (`DirectRequest`), and code outside the
 * client still gets node-fetch's `Request` and `Headers`. The differential tests compare the bytes for every preset and
 * for a matrix of option shapes.
 */

const DEFAULT_TIMEOUT = 10_000
const MAX_REDIRECTS = 20

type Hook = (options: Options) => unknown
type AfterHook = (request: Request, options: Options, response: Response) => unknown

interface Options extends Record<string, unknown> {
  headers?: Headers | Record<string, string> | HeaderBag
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

/*
 * node-fetch's `Headers` keeps its headers in a record: each name as first given (case kept), with its values. The
 * request client works on such records directly: a name and value are checked by node-fetch's rules when they come in
 * (from options or a hook), and copies between steps are plain copies, where node-fetch builds a `Headers` and checks
 * every name and value again at each of the dozen copies a request makes. A real `Headers` is built only for what code
 * outside the client can see (a hook's options, a response's `request`).
 */
type HeaderRecord = Record<string, string[]>

const INVALID_NAME = /[^_`a-zA-Z\-0-9!#$%&'*+.|~^]/
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/

/** The merged options' headers: a checked record (the runtime's own; never handed out). */
class HeaderBag {
  constructor(readonly record: HeaderRecord) {}
}

const emptyRecord = (): HeaderRecord => Object.create(null) as HeaderRecord

/** node-fetch's `find`: the name a header is kept under, matched without case. */
function findName(record: HeaderRecord, name: string): string | undefined {
  const lower = name.toLowerCase()
  for (const key in record) if (key.toLowerCase() === lower) return key
  return undefined
}

/** node-fetch's `Headers#append`, with its checks and errors. */
function appendHeader(record: HeaderRecord, rawName: unknown, rawValue: unknown): void {
  // A template, as node-fetch converts them (a Symbol throws).
  const name = `${rawName as string}`
  const value = `${rawValue as string}`
  if (INVALID_NAME.test(name) || name === '') throw new TypeError(`${name} is not a legal HTTP header name`)
  if (INVALID_VALUE.test(value)) throw new TypeError(`${value} is not a legal HTTP header value`)
  const key = findName(record, name)
  if (key !== undefined) (record[key] as string[]).push(value)
  else record[name] = [value]
}

/** node-fetch's `Headers#set` for a name and value known to be legal. */
function setHeader(record: HeaderRecord, name: string, value: string): void {
  record[findName(record, name) ?? name] = [value]
}

function copyRecord(record: HeaderRecord): HeaderRecord {
  const copy = emptyRecord()
  for (const key in record) copy[key] = [...(record[key] as string[])]
  return copy
}

/** What `new Headers(init)` keeps, and the errors it raises. */
function headerRecord(init: unknown): HeaderRecord {
  if (init instanceof HeaderBag) return copyRecord(init.record)
  const record = emptyRecord()
  if (init instanceof Headers) {
    // node-fetch's record (`raw()`): each name as first given; `forEach` would lower-case and sort them.
    const raw = (init as unknown as { raw(): HeaderRecord }).raw()
    for (const name of Object.keys(raw)) for (const value of raw[name] ?? []) appendHeader(record, name, value)
    return record
  }
  if (init === undefined || init === null) return record
  if (typeof init !== 'object') throw new TypeError('Provided initializer must be an object')
  const iterate = (init as { [Symbol.iterator]?: unknown })[Symbol.iterator]
  if (iterate !== undefined && iterate !== null) {
    if (typeof iterate !== 'function') throw new TypeError('Header pairs must be iterable')
    const pairs: unknown[][] = []
    for (const pair of init as Iterable<unknown>) {
      if (
        typeof pair !== 'object' ||
        pair === null ||
        typeof (pair as Iterable<unknown>)[Symbol.iterator] !== 'function'
      )
        throw new TypeError('Each header pair must be iterable')
      pairs.push(Array.from(pair as Iterable<unknown>))
    }
    for (const pair of pairs) {
      if (pair.length !== 2) throw new TypeError('Each header pair must be a name/value tuple')
      appendHeader(record, pair[0], pair[1])
    }
    return record
  }
  for (const key of Object.keys(init)) appendHeader(record, key, (init as Record<string, unknown>)[key])
  return record
}

/** A node-fetch `Headers` with a record's headers, for code outside the client. */
function toHeaders(record: HeaderRecord): Headers {
  const headers = new Headers()
  for (const name of Object.keys(record)) for (const value of record[name] ?? []) headers.append(name, value)
  return headers
}

/**
 * actions-core's `mergeHeaders`: the first headers, then each of the second's (lower-cased, in node-fetch's sorted
 * order, values joined) set over them; a header set to the string "undefined" is removed (actions-core's convention).
 */
function mergeHeaders(first: unknown, second: unknown): HeaderBag {
  const result = headerRecord(first ?? {})
  const source = headerRecord(second ?? {})
  for (const key of Object.keys(source).sort()) {
    const name = key.toLowerCase()
    const value = (source[key] as string[]).join(', ')
    const existing = findName(result, name)
    if (value !== 'undefined') result[existing ?? name] = [value]
    else if (existing !== undefined) Reflect.deleteProperty(result, existing)
  }
  return new HeaderBag(result)
}

/** actions-core's `mergeHeaders` with node-fetch's `Headers`, for objects nested in the options (never headers). */
function mergeNestedHeaders(first: unknown, second: unknown): Headers {
  const result = new Headers((first ?? {}) as Record<string, string>)
  new Headers((second ?? {}) as Record<string, string>).forEach((value, key) => {
    if (value === 'undefined') result.delete(key)
    else result.set(key, value)
  })
  return result
}

/**
 * actions-core's `merge`: objects merged deeply, arrays concatenated, headers merged as headers. At the top the headers
 * stay a record (`HeaderBag`); an object nested in the options (merged when both sides have it) gets node-fetch's
 * `Headers`, as actions-core gives it. A top-level `headers` entry is not merged as an object: actions-core replaces
 * that merge's result with the merged headers right after.
 */
function merge(sources: readonly unknown[], nested = false): Options {
  let result: Record<string, unknown> = {}
  let headers: HeaderBag | Headers | Record<string, never> = {}
  for (const source of sources) {
    if (Array.isArray(source)) {
      if (!Array.isArray(result)) result = [] as unknown as Record<string, unknown>
      result = [...(result as unknown as unknown[]), ...source] as unknown as Record<string, unknown>
    } else if (isObjectLike(source)) {
      for (const key of Object.keys(source)) {
        if (key === 'headers' && !nested) continue
        let value = source[key]
        if (isObjectLike(value) && key in result) value = merge([result[key], value], true)
        result[key] = value
      }
      if (isObjectLike(source.headers))
        headers = nested ? mergeNestedHeaders(headers, source.headers) : mergeHeaders(headers, source.headers)
    }
    result.headers = headers
  }
  return result as Options
}

function mergeOptions(...sources: unknown[]): Options {
  for (const source of sources)
    if (!isPlainObject(source) && !(isObjectLike(source) && !Array.isArray(source)))
      throw new TypeError(`The 'options' argument must be an object`)
  return merge([{}, ...sources])
}

/** The options as actions-core's would be, for code outside the client: `headers` a node-fetch `Headers`. */
function withHeaders(options: Options): Options {
  const headers = options.headers
  return headers instanceof HeaderBag ? { ...options, headers: toHeaders(headers.record) } : options
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

/** A request as it is sent: what node-fetch's `Request` holds by then. */
interface Outgoing {
  readonly url: string
  readonly method: string
  readonly headers: HeaderRecord
  /** The body's bytes (empty for none). */
  readonly body: Buffer
  /** The request has no body at all (as opposed to an empty one). */
  readonly bodyless: boolean
}

/** Sends one request through the transport, following redirects as node-fetch does. */
async function send(
  outgoing: Outgoing,
  options: Options,
  exchange: HttpExchange,
  signal: AbortSignal,
  abortable: Abortable | undefined
): Promise<Response> {
  let url = outgoing.url
  let method = outgoing.method
  let body: Buffer | undefined = method === 'GET' || method === 'HEAD' ? undefined : outgoing.body
  if (body !== undefined && body.length === 0 && outgoing.bodyless) body = undefined
  // node-fetch's defaults (getNodeRequestOptions), with its header names, on a copy of the request's headers.
  const headers = copyRecord(outgoing.headers)
  if (findName(headers, 'Accept') === undefined) headers.Accept = ['*/*']
  if (body === undefined && /^(POST|PUT)$/i.test(method)) setHeader(headers, 'Content-Length', '0')
  if (body !== undefined) setHeader(headers, 'Content-Length', String(body.length))
  if (findName(headers, 'User-Agent') === undefined)
    headers['User-Agent'] = ['node-fetch/1.0 (+https://github.com/bitinn/node-fetch)']
  const compress = options.compress !== false
  if (compress && findName(headers, 'Accept-Encoding') === undefined) headers['Accept-Encoding'] = ['gzip,deflate']
  const redirect = options.redirect ?? 'follow'
  const maxRedirects = options.follow ?? MAX_REDIRECTS
  for (let redirects = 0; ; redirects += 1) {
    const answer = await exchange({
      method,
      url,
      headers,
      body,
      signal,
      ...(abortable ? { abortable } : {}),
      decompress: compress
    })
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
        const length = findName(headers, 'Content-Length')
        if (length !== undefined) Reflect.deleteProperty(headers, length)
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

/** `url` as node-fetch's `Request` keeps it (WHATWG-parsed, then through Node's legacy parser), remembered. */
const normalizedUrls = new Map<string, string>()
const MAX_NORMALIZED_URLS = 1000

function normalizedUrl(url: string): string {
  let normalized = normalizedUrls.get(url)
  if (normalized === undefined) {
    normalized = new Request(url).url
    if (normalizedUrls.size >= MAX_NORMALIZED_URLS) normalizedUrls.clear()
    normalizedUrls.set(url, normalized)
  }
  return normalized
}

const getWithBody = () => new TypeError('Request with GET/HEAD method cannot have body')

/**
 * A body the client builds requests for itself (none, a string, a Buffer); anything else (a stream, form data) goes
 * through node-fetch's `Request`, which knows how to read it.
 */
const simpleBody = (body: unknown): boolean =>
  body === undefined || body === null || typeof body === 'string' || Buffer.isBuffer(body)

/** Behaviour shared by both ways of building a request: the deadline, the abort, the hooks after the answer. */
abstract class ClientRequestBase {
  protected options!: Options
  protected controller = new AbortController()
  /** Told when the deadline aborts the request (the transport then needs no listener on the signal). */
  private readonly abortable: Abortable = { onAbort: undefined }

  /**
   * What the transport is handed to abort with: this request's own hook when only its controller can abort it (no
   * signal of the caller's), else nothing (the transport listens on the signal).
   */
  protected abortHook(): Abortable | undefined {
    return this.options.signal === this.controller.signal ? this.abortable : undefined
  }

  constructor(protected readonly exchange: HttpExchange) {}

  protected abstract send(): Promise<Response>
  /** The request as actions-core's hooks and errors see it. */
  protected abstract requestView(): Request
  /** The options as actions-core's hooks and errors see them. */
  protected abstract optionsView(): Options

  /** The options' timeout and signal as actions-core's `setOptions` sets them (this request's controller first). */
  protected timing(options: Options, given: Options): void {
    if (options.signal) {
      options.timeout = given.timeout ?? false
      options.signal = AbortSignal.any([this.controller.signal, options.signal])
    } else {
      options.timeout = given.timeout ?? DEFAULT_TIMEOUT
      // actions-core combines its controller's signal with none (`AbortSignal.any` of one): the same signal in effect.
      options.signal = this.controller.signal
    }
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
    const hooks = this.options.afterResponse ?? []
    if (hooks.length > 0) {
      const request = this.requestView()
      const options = this.optionsView()
      for (const hook of hooks) {
        const modified = await hook(request, options, response)
        if (modified instanceof Response) response = modified
      }
    }
    if (!response.ok && this.options.throwHttpErrors)
      throw new HTTPError(
        response,
        this.requestView(),
        this.optionsView() as ConstructorParameters<typeof HTTPError>[2]
      )
    return response
  }

  protected async beforeSend(): Promise<void> {}

  private async fetch(): Promise<Response> {
    await this.beforeSend()
    const timeout = this.options.timeout
    if (timeout === false || timeout === undefined) return this.send()
    // At the deadline the request is aborted and fails with the timeout, as when a timer raced it (the race against a
    // pending promise measured 20–25 µs per request by itself).
    let timedOut = false
    const deadline = deadlines.add(timeout, () => {
      timedOut = true
      this.controller.abort()
      this.abortable.onAbort?.()
    })
    let response: Response
    try {
      response = await this.send()
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

/**
 * A request built without node-fetch's classes, for options whose only `beforeRequest` hook is the built-in Basic
 * auth and whose body is none, a string or a Buffer: every preset of every integration. It reproduces each step of
 * actions-core's `setOptions` (the request built from the options; search params; the JSON body and its content type)
 * on header records, and its second pass when the auth hook answers (the body is a string by then, so a `Content-Type`
 * absent until then is added under node-fetch's name before being set to JSON). Hooks after the answer and an
 * `HTTPError` get a node-fetch `Request`, built when first read, and options with node-fetch `Headers`.
 */
class DirectRequest extends ClientRequestBase {
  private url!: string
  private headers!: HeaderRecord
  private view: Request | undefined
  private exposed: Options | undefined

  constructor(url: string, options: Options, exchange: HttpExchange) {
    super(exchange)
    this.prepare(url, options)
  }

  protected override async beforeSend(): Promise<void> {
    // The built-in Basic auth alone (it reads the username and password, and answers at once).
    for (const hook of this.options.beforeRequest ?? []) {
      const next = await hook({ ...this.options })
      if (isPlainObject(next)) this.prepare(this.url, mergeOptions(this.options, next), true)
    }
  }

  private prepare(url: string, given: Options, again = false): void {
    const options: Options = {
      ...given,
      method: (given.method ?? 'get').toUpperCase(),
      throwHttpErrors: given.throwHttpErrors !== false
    }
    // The second pass (after the Basic-auth hook) keeps the first's signal and timeout. actions-core wraps the first
    // signal in a new controller's, but only its newest controller is ever aborted; here there is one. So the
    // transport still needs no abort listener (`abortHook`).
    if (again) options.signal = this.options.signal
    else this.timing(options, given)
    const bodiless = options.method === 'GET' || options.method === 'HEAD'
    let target = normalizedUrl(url)
    if (options.body !== undefined && options.body !== null && bodiless) throw getWithBody()
    const headers = headerRecord(options.headers)
    if (typeof options.body === 'string' && findName(headers, 'Content-Type') === undefined)
      headers['Content-Type'] = ['text/plain;charset=UTF-8']
    if (options.searchParams) {
      const withSearch = new URL(target)
      withSearch.search = new URLSearchParams(options.searchParams as Record<string, string>).toString()
      target = normalizedUrl(withSearch.toString())
    }
    if (options.json !== undefined) {
      options.body = JSON.stringify(options.json)
      setHeader(headers, 'content-type', 'application/json')
      if (options.body !== undefined && bodiless) throw getWithBody()
    }
    this.options = options
    this.url = target
    this.headers = headers
  }

  protected send(): Promise<Response> {
    const body = this.options.body as string | Buffer | undefined | null
    return send(
      {
        url: this.url,
        method: this.options.method as string,
        headers: this.headers,
        body: body === undefined || body === null ? EMPTY : typeof body === 'string' ? Buffer.from(body) : body,
        bodyless: body === undefined || body === null
      },
      this.options,
      this.exchange,
      this.options.signal as AbortSignal,
      this.abortHook()
    )
  }

  protected optionsView(): Options {
    if (this.exposed === undefined) {
      const exposed = { ...this.options }
      const record = (this.options.headers as HeaderBag).record
      let headers: unknown
      Object.defineProperty(exposed, 'headers', {
        enumerable: true,
        configurable: true,
        get: () => (headers ??= toHeaders(record)),
        set: (value: unknown) => {
          headers = value
        }
      })
      this.exposed = exposed
    }
    return this.exposed
  }

  /** A node-fetch `Request` equal to actions-core's last one, built when something first reads it. */
  protected requestView(): Request {
    if (this.view === undefined) {
      let built: Request | undefined
      const real = (): Request =>
        (built ??= new Request(this.url, {
          ...this.options,
          headers: toHeaders(this.headers),
          body: this.options.body
        } as ConstructorParameters<typeof Request>[1]))
      this.view = new Proxy(Object.create(Request.prototype) as Request, {
        get: (_target, key) => Reflect.get(real(), key),
        set: (_target, key, value) => Reflect.set(real(), key, value),
        has: (_target, key) => Reflect.has(real(), key),
        ownKeys: () => Reflect.ownKeys(real()),
        getOwnPropertyDescriptor: (_target, key) => {
          const descriptor = Reflect.getOwnPropertyDescriptor(real(), key)
          return descriptor && { ...descriptor, configurable: true }
        },
        deleteProperty: (_target, key) => Reflect.deleteProperty(real(), key)
      })
    }
    return this.view
  }
}

/**
 * actions-core's `RequestClient` with node-fetch's `Request`, step by step, for what `DirectRequest` does not take: a
 * `beforeRequest` hook of the definition's own (it sees the options and may change them), or a body other than a
 * string or a Buffer.
 */
class FetchRequest extends ClientRequestBase {
  private request!: Request

  constructor(url: string, options: Options, exchange: HttpExchange) {
    super(exchange)
    this.setOptions(url, options)
  }

  /** actions-core's `setOptions`. */
  private setOptions(url: string, given: Options): void {
    const options: Options = {
      ...withHeaders(given),
      method: (given.method ?? 'get').toUpperCase(),
      throwHttpErrors: given.throwHttpErrors !== false
    }
    this.controller = new AbortController()
    this.timing(options, given)
    this.options = options
    this.request = new Request(url, options as ConstructorParameters<typeof Request>[1])
    if (options.searchParams) {
      const target = new URL(this.request.url)
      target.search = new URLSearchParams(options.searchParams as Record<string, string>).toString()
      this.request = new Request(
        new Request(target.toString(), this.request),
        options as ConstructorParameters<typeof Request>[1]
      )
    }
    if (options.json !== undefined) {
      options.body = JSON.stringify(options.json)
      this.request.headers.set('content-type', 'application/json')
      this.request = new Request(this.request, { body: options.body as string })
    }
  }

  protected override async beforeSend(): Promise<void> {
    for (const hook of this.options.beforeRequest ?? []) {
      const next = await hook({ ...this.options })
      if (isPlainObject(next)) this.setOptions(this.request.url, mergeOptions(this.options, next))
    }
  }

  protected async send(): Promise<Response> {
    const body = this.options.body
    const bodiless = this.request.method === 'GET' || this.request.method === 'HEAD'
    const bytes =
      bodiless || this.request.body === null
        ? EMPTY
        : typeof body === 'string'
          ? Buffer.from(body)
          : Buffer.isBuffer(body)
            ? body
            : Buffer.from(await this.request.clone().arrayBuffer())
    return send(
      {
        url: this.request.url,
        method: this.request.method,
        headers: headerRecord(this.request.headers),
        body: bytes,
        bodyless: this.request.body === null
      },
      this.options,
      this.exchange,
      this.options.signal as AbortSignal,
      this.abortHook()
    )
  }

  protected requestView(): Request {
    return this.request
  }

  protected optionsView(): Options {
    return this.options
  }
}

type Client = RequestClient & { extend(defaults: Record<string, unknown>): Client }

function createInstance(exchange: HttpExchange, defaults: Options): Client {
  const client = ((url: string, options: RequestOptions = {}) => {
    const merged = mergeOptions(defaults, options)
    const direct = (merged.beforeRequest ?? []).every((hook) => hook === addBasicAuthHeader) && simpleBody(merged.body)
    return (direct ? new DirectRequest(url, merged, exchange) : new FetchRequest(url, merged, exchange)).execute()
  }) as unknown as Client
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
