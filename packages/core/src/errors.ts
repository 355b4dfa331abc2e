import { IntegrationError, InvalidAuthenticationError, RetryableError } from '@segment/actions-core'

type RetryableStatus = ConstructorParameters<typeof RetryableError>[1]

/**
 * A retryable failure that carries how long the vendor asked us to wait (`Retry-After`).
 * It is still an actions-core `RetryableError`, so any actions runtime treats it as retryable;
 * runtimes that know this class (ours does) also honour `retryAfterMs`.
 */
export class VendorRetryableError extends RetryableError {
  readonly retryAfterMs: number | undefined

  constructor(message: string, status: RetryableStatus, retryAfterMs?: number) {
    super(message, status)
    this.retryAfterMs = retryAfterMs
  }
}

/** A setting that cannot work (an unknown region, an unsafe URL): never retried, names the setting. */
export class InvalidSettingError extends IntegrationError {
  readonly setting: string

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

  constructor(message: string, httpStatus: number) {
    super(message)
    this.httpStatus = httpStatus
  }
}
