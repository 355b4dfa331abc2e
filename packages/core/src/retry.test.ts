import { describe, expect, it } from '@jest/globals'
import { IntegrationError, PayloadValidationError, RetryableError } from '@segment/actions-core'
import { errorDetails } from './error-details'
import { blockedAddressError } from './network-guard'
import { VendorAuthenticationError, VendorRetryableError } from './errors'
import { isRetryableStatus, parseRetryAfter } from './retry'

describe('the one retry policy', () => {
  it('retries 408, 423, 429, every 5xx and an unanswered request; nothing else', () => {
    expect([408, 423, 429, 500, 503, 599, undefined].map(isRetryableStatus)).toStrictEqual(Array(7).fill(true))
    expect([200, 301, 400, 401, 403, 404, 409, 413, 422].map(isRetryableStatus)).toStrictEqual(Array(9).fill(false))
  })
})

describe('the one Retry-After parser', () => {
  it('reads delta-seconds, decimals and HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3000)
    expect(parseRetryAfter(' 0.5 ')).toBe(500)
    expect(parseRetryAfter('Wed, 01 May 2024 12:00:10 GMT', Date.parse('2024-05-01T12:00:00Z'))).toBe(10_000)
    expect(parseRetryAfter('Wed, 01 May 2024 11:00:00 GMT', Date.parse('2024-05-01T12:00:00Z'))).toBe(0)
    expect(parseRetryAfter('soon')).toBeUndefined()
    expect(parseRetryAfter('')).toBeUndefined()
    expect(parseRetryAfter(null)).toBeUndefined()
  })
})

describe('errorDetails: retryability and Retry-After as the error says them', () => {
  it('reads our errors’ explicit flags, their wait and their cause', () => {
    const cause = new Error('socket hang up')
    const error = new VendorRetryableError('Vendor could not be reached', 503, { retryAfterMs: 2500, cause })
    expect(error.cause).toBe(cause)
    expect(errorDetails(error)).toMatchObject({ status: 503, retryable: true, retryAfterMs: 2500 })
    expect(errorDetails(new VendorAuthenticationError('no', 403))).toMatchObject({ status: 401, retryable: false })
  })

  it('reads actions-core classes by name (any copy of actions-core), and leaves others to the status', () => {
    expect(errorDetails(new RetryableError('later')).retryable).toBe(true)
    expect(errorDetails(new PayloadValidationError('bad')).retryable).toBe(false)
    expect(errorDetails(new IntegrationError('x', 'X', 400)).retryable).toBeUndefined()
    const foreign = Object.assign(new Error('from another copy'), { name: 'RetryableError', status: 429 })
    expect(errorDetails(foreign)).toMatchObject({ retryable: true, status: 429 })
  })

  it('does not retry a connection the egress guard refused (node-fetch keeps the code on its FetchError)', () => {
    const refused = Object.assign(new Error('request to https://x failed, reason: refused'), {
      name: 'FetchError',
      code: 'EBLOCKEDADDRESS'
    })
    expect(errorDetails(refused)).toMatchObject({ retryable: false, status: undefined, code: 'EBLOCKEDADDRESS' })
    expect(errorDetails(blockedAddressError('metadata.internal', '169.254.169.254')).retryable).toBe(false)
    const reset = Object.assign(new Error('socket hang up'), { name: 'FetchError', code: 'ECONNRESET' })
    expect(errorDetails(reset).retryable).toBeUndefined()
  })

  it('reads Retry-After of an HTTPError in every form the parser knows', () => {
    const httpError = (value: string) =>
      Object.assign(new Error('Too Many Requests'), {
        response: { status: 429, headers: { get: (name: string) => (name === 'retry-after' ? value : null) } }
      })
    expect(errorDetails(httpError('1.5')).retryAfterMs).toBe(1500)
    expect(errorDetails(httpError('12')).retryAfterMs).toBe(12_000)
    const later = new Date(Date.now() + 60_000).toUTCString()
    expect(errorDetails(httpError(later)).retryAfterMs).toBeGreaterThan(55_000)
  })
})
