import { BLOCKED_ADDRESS_CODE } from './network-guard'
import { parseRetryAfter } from './retry'

export interface ErrorDetails {
  readonly name: string
  readonly message: string
  /** The status a runtime acts on (actions-core errors' `status`, or an HTTP error's response status). */
  readonly status: number | undefined
  /** The vendor's own HTTP status when it differs (a 403 reported as a 401 authentication error). */
  readonly httpStatus: number | undefined
  readonly code: string | undefined
  readonly retryAfterMs: number | undefined
  /**
   * Whether the error says it is worth another attempt: its own `retryable` flag, or what its actions-core class means
   * (`RetryableError` yes; `PayloadValidationError` and `InvalidAuthenticationError` no; a connection the egress guard
   * refused, code `EBLOCKEDADDRESS`, no: the address will not change by retrying). Undefined: the status decides.
   */
  readonly retryable: boolean | undefined
}

/** actions-core classes whose name says whether to retry, whichever copy of actions-core threw them. */
const RETRYABLE_BY_NAME: Readonly<Record<string, boolean>> = {
  RetryableError: true,
  PayloadValidationError: false,
  InvalidAuthenticationError: false
}

interface ErrorLike {
  name?: unknown
  message?: unknown
  status?: unknown
  httpStatus?: unknown
  code?: unknown
  retryAfterMs?: unknown
  retryable?: unknown
  response?: { status?: unknown; headers?: { get?: (name: string) => string | null } }
}

/**
 * What anything thrown says about itself, read one way everywhere: actions-core errors (`status`, `code`), our
 * vendor errors (`httpStatus`, `retryAfterMs`, `retryable`), actions-core's `HTTPError` (`response.status`,
 * `Retry-After`). By name and fields, never by class identity, so errors from another copy of actions-core read the same.
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
    retryAfterMs: typeof candidate.retryAfterMs === 'number' ? candidate.retryAfterMs : parseRetryAfter(header),
    retryable:
      typeof candidate.retryable === 'boolean'
        ? candidate.retryable
        : candidate.code === BLOCKED_ADDRESS_CODE
          ? false
          : typeof candidate.name === 'string'
            ? RETRYABLE_BY_NAME[candidate.name]
            : undefined
  }
}
