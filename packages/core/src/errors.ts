import { IntegrationError, InvalidAuthenticationError, RetryableError } from '@segment/actions-core'

export type RetryableStatus = ConstructorParameters<typeof RetryableError>[1]

/**
 * A retryable failure that says so itself (`retryable`), carries how long the vendor asked us to wait (`retryAfterMs`,
 * from `Retry-After`) and what caused it (`cause`). It is still an actions-core `RetryableError`, so any actions
 * runtime retries it; runtimes that read these fields (ours does, through `errorDetails`) also honour the wait.
 */
export class VendorRetryableError extends RetryableError {
  readonly retryable = true
  readonly retryAfterMs: number | undefined
  override readonly cause: unknown

  constructor(
    message: string,
    status: RetryableStatus,
    options: { readonly retryAfterMs?: number | undefined; readonly cause?: unknown } = {}
  ) {
    super(message, status)
    this.retryAfterMs = options.retryAfterMs
    this.cause = options.cause
  }
}

/** A setting that cannot work (an unknown region, an unsafe URL): never retried, names the setting. */
export class InvalidSettingError extends IntegrationError {
  readonly setting: string
  readonly retryable = false

  constructor(setting: string, message: string) {
    super(`Invalid setting "${setting}": ${message}`, 'INVALID_SETTING', 400)
    this.setting = setting
  }
}

/**
 * The vendor refused the credentials. An actions-core `InvalidAuthenticationError` (status 401 for every runtime),
 * which also keeps the vendor's own status: 401 (who are you) and 403 (not allowed here) mean different fixes.
 */
export class VendorAuthenticationError extends InvalidAuthenticationError {
  readonly httpStatus: number
  readonly retryable = false

  constructor(message: string, httpStatus: number) {
    super(message)
    this.httpStatus = httpStatus
  }
}
