import { describe, expect, it } from '@jest/globals'
import { basicAuthorization } from './auth'
import { createRedactor } from './redaction'

describe('createRedactor', () => {
  const redactor = createRedactor(['s3cr3t/key+1', undefined, '', 'tok-999'])

  it('replaces raw, URL-encoded and JSON-escaped secrets in text', () => {
    expect(redactor.text('key=s3cr3t/key+1&b=s3cr3t%2Fkey%2B1 tok-999')).toBe('key=[REDACTED]&b=[REDACTED] [REDACTED]')
  })

  it('catches a secret inside a Basic credential', () => {
    expect(redactor.text(`Authorization: ${basicAuthorization('app', 's3cr3t/key+1')}`)).toBe(
      'Authorization: Basic [REDACTED]'
    )
    expect(redactor.text(`${basicAuthorization('writeKey-public')}`)).toBe(basicAuthorization('writeKey-public'))
    expect(createRedactor(['wk_123']).text(basicAuthorization('wk_123'))).toBe('Basic [REDACTED]')
  })

  it('redacts deeply inside values, keys included, without touching other data', () => {
    const value = { url: 'https://x.test/?k=tok-999', nested: [{ note: 'tok-999 leaked' }, 3, null], ['tok-999']: true }
    expect(redactor.value(value)).toStrictEqual({
      url: 'https://x.test/?k=[REDACTED]',
      nested: [{ note: '[REDACTED] leaked' }, 3, null],
      '[REDACTED]': true
    })
  })

  it('always redacts credential headers and secret values in other headers', () => {
    expect(
      redactor.headers({
        Authorization: 'Key abc',
        'X-REQUEST-TOKEN': 'zzz',
        'X-Other': 'tok-999',
        'Content-Type': 'application/json'
      })
    ).toStrictEqual({
      Authorization: '[REDACTED]',
      'X-REQUEST-TOKEN': '[REDACTED]',
      'X-Other': '[REDACTED]',
      'Content-Type': 'application/json'
    })
  })

  it('is the identity without secrets', () => {
    expect(createRedactor([]).text('nothing to hide')).toBe('nothing to hide')
  })
})
