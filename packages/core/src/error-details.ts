export interface ErrorDetails {
  readonly name: string
  readonly message: string
  /** The status a runtime acts on (actions-core errors' `status`, or an HTTP error's response status). */
  readonly status: number | undefined
  /** The vendor's own HTTP status when it differs (a 403 reported as a 401 authentication error). */
  readonly httpStatus: number | undefined
  readonly code: string | undefined
  readonly retryAfterMs: number | undefined
}

interface ErrorLike {
  name?: unknown
  message?: unknown
  status?: unknown
  httpStatus?: unknown
  code?: unknown
  retryAfterMs?: unknown
  response?: { status?: unknown; headers?: { get?: (name: string) => string | null } }
}

/**
 * What anything thrown says about itself, read one way everywhere: actions-core errors (`status`, `code`), our
 * vendor errors (`httpStatus`, `retryAfterMs`), actions-core's `HTTPError` (`response.status`, `Retry-After`).
 */
export function errorDetails(error: unknown): ErrorDetails {
  const candidate = (typeof error === 'object' && error !== null ? error : {}) as ErrorLike
  const responseStatus = typeof candidate.response?.status === 'number' ? candidate.response.status : undefined
  const status = typeof candidate.status === 'number' ? candidate.status : responseStatus
  const header = candidate.response?.headers?.get?.('retry-after')
  return {
    name: typeof candidate.name === 'string' ? candidate.name : 'Error',
    message: typeof candidate.message === 'string' ? candidate.message : String(error),
    status,
    httpStatus: typeof candidate.httpStatus === 'number' ? candidate.httpStatus : responseStatus,
    code: typeof candidate.code === 'string' ? candidate.code : undefined,
    retryAfterMs:
      typeof candidate.retryAfterMs === 'number'
        ? candidate.retryAfterMs
        : header && /^\d+$/.test(header)
          ? Number(header) * 1000
          : undefined
  }
}
