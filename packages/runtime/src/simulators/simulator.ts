/** What a vendor simulator sees of an outbound request. */
export interface SimulatedRequest {
  readonly method: string
  readonly url: URL
  readonly headers: Headers
  readonly rawBody: string
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly body: unknown
}

export interface SimulatedResponse {
  readonly status: number
  readonly body?: unknown
  readonly headers?: Record<string, string>
}

/**
 * A vendor as the sandbox plays it: checks each request against what the vendor accepts (hosts, paths, auth
 * headers, body shape, limits) and answers as the vendor does, errors included.
 */
export interface VendorSimulator {
  readonly vendor: string
  /**
   * Settings this simulator accepts, per integration slug: what the console fills in for the sandbox (any well-formed
   * credentials pass; these are placeholders, not secrets).
   */
  readonly sandboxSettings?: Readonly<Record<string, Readonly<Record<string, unknown>>>>
  handles(url: URL): boolean
  answer(request: SimulatedRequest): SimulatedResponse
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): SimulatedResponse {
  return { status, body, headers }
}

export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** `user:password` of a Basic Authorization header, or undefined. */
export function basicCredentials(headers: Headers): { readonly user: string; readonly password: string } | undefined {
  const match = /^Basic\s+(.+)$/i.exec(headers.get('authorization') ?? '')
  if (!match?.[1]) return undefined
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}
