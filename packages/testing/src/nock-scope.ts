import { afterAll, afterEach, beforeAll, expect } from '@jest/globals'
import nock from 'nock'

/**
 * Turns the real network off for a test file and checks, after every test, that every mocked scope was
 * used: a request the code no longer makes fails the test instead of passing silently.
 * Loopback stays reachable so tests of real local servers keep working.
 */
export function useStrictNock(): void {
  beforeAll(() => {
    if (!nock.isActive()) nock.activate()
    nock.disableNetConnect()
    nock.enableNetConnect(/^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/)
  })
  afterEach(() => {
    const pending = nock.pendingMocks()
    nock.cleanAll()
    expect(pending).toStrictEqual([])
  })
  afterAll(() => {
    nock.enableNetConnect()
    // nock patches the process-wide http.ClientRequest; jest runs the next test file in this process with a fresh
    // nock, and a stale one left active would answer its requests ("Disallowed net connect") first.
    nock.restore()
  })
}

/** A request body nock received, parsed as JSON, captured for exact assertions. */
export interface CapturedRequest {
  readonly method: string
  readonly url: string
  readonly headers: Record<string, string>
  readonly body: unknown
}

interface InterceptedRequest {
  readonly method: string
  readonly path: string
  readonly headers: Record<string, string | string[] | number>
  readonly options: { readonly proto?: string; readonly hostname?: string; readonly port?: number | string }
}

/** The headers a vendor cares about, exactly: `pickHeaders(request, ['authorization'])`. */
export function pickHeaders(request: CapturedRequest, names: readonly string[]): Record<string, string | undefined> {
  const picked: Record<string, string | undefined> = {}
  for (const name of names) picked[name.toLowerCase()] = request.headers[name.toLowerCase()]
  return picked
}

/** Captures every request a scope answers, so tests can assert URLs, headers and bodies with `toStrictEqual`. */
export function captureRequests(scope: nock.Scope): CapturedRequest[] {
  const captured: CapturedRequest[] = []
  scope.on('request', (request: InterceptedRequest, _interceptor: unknown, body: string) => {
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(request.headers)) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value)
    }
    let parsed: unknown = body
    try {
      parsed = body === '' ? undefined : JSON.parse(body)
    } catch {
      parsed = body
    }
    const proto = request.options.proto ?? 'https'
    const port =
      request.options.port === undefined || String(request.options.port) === (proto === 'https' ? '443' : '80')
        ? ''
        : `:${request.options.port}`
    captured.push({
      method: request.method,
      url: `${proto}://${request.options.hostname ?? ''}${port}${request.path}`,
      headers,
      body: parsed
    })
  })
  return captured
}

/** The one request captured; fails the test when there were none or several. */
export function onlyRequest(requests: readonly CapturedRequest[]): CapturedRequest {
  const [first] = requests
  if (requests.length !== 1 || first === undefined) {
    throw new Error(
      `Expected exactly one request, got ${requests.length}: ${requests.map((request) => `${request.method} ${request.url}`).join(', ')}`
    )
  }
  return first
}
