import { describe, expect, it } from '@jest/globals'
import { PayloadValidationError } from '@segment/actions-core'
import { z } from 'zod'
import { ISO_COUNTRY_CODES, ISO_CURRENCY_CODES } from './iso-codes'
import {
  countryCode,
  currencyCode,
  e164Phone,
  email,
  flatStringTags,
  jsonByteLength,
  parsePayload,
  rfc3339,
  withMaxBytes
} from './validation'

describe('vendor value schemas', () => {
  it('accepts E.164 phones and refuses the rest', () => {
    expect(e164Phone.safeParse('+14155550100').success).toBe(true)
    for (const bad of ['14155550100', '+0123456789', '+1 415 555 0100', '+12345', '+1234567890123456'])
      expect(e164Phone.safeParse(bad).success).toBe(false)
  })

  it('accepts emails and refuses the rest', () => {
    expect(email.safeParse('jane@example.com').success).toBe(true)
    for (const bad of ['jane', 'jane@example', 'jane doe@example.com', '@example.com'])
      expect(email.safeParse(bad).success).toBe(false)
  })

  it('knows the ISO country and currency code lists', () => {
    expect(ISO_COUNTRY_CODES.size).toBe(249)
    expect(countryCode.safeParse('TR').success).toBe(true)
    expect(countryCode.safeParse('UK').success).toBe(false)
    expect(countryCode.safeParse('us').success).toBe(false)
    expect(currencyCode.safeParse('EUR').success).toBe(true)
    expect(currencyCode.safeParse('usd').success).toBe(false)
    expect(currencyCode.safeParse('BTC').success).toBe(false)
    expect(ISO_CURRENCY_CODES.has('TRY')).toBe(true)
  })

  it('accepts RFC 3339 timestamps with an offset only', () => {
    for (const good of ['2024-05-01T12:00:00Z', '2024-05-01T12:00:00.123+02:00'])
      expect(rfc3339.safeParse(good).success).toBe(true)
    for (const bad of ['2024-05-01', '2024-05-01T12:00:00', '2024-13-01T12:00:00Z', 'yesterday'])
      expect(rfc3339.safeParse(bad).success).toBe(false)
  })

  it('accepts flat string tags only', () => {
    expect(flatStringTags.safeParse({ plan: 'pro', age: '34' }).success).toBe(true)
    expect(flatStringTags.safeParse({ age: 34 }).success).toBe(false)
    expect(flatStringTags.safeParse({ address: { city: 'x' } }).success).toBe(false)
  })

  it('measures and limits JSON byte size in UTF-8', () => {
    expect(jsonByteLength({ a: 'é' })).toBe(10)
    const limited = withMaxBytes(z.object({ a: z.string() }), 10, 'A request')
    expect(limited.safeParse({ a: 'é' }).success).toBe(true)
    expect(limited.safeParse({ a: 'éé' }).success).toBe(false)
  })
})

describe('parsePayload', () => {
  const schema = z.object({
    users: z.array(z.object({ identifiers: z.object({ phone_number: e164Phone.optional(), email: email.optional() }) }))
  })

  it('returns the parsed value', () => {
    expect(parsePayload(schema, { users: [{ identifiers: { email: 'a@b.co' } }] })).toStrictEqual({
      users: [{ identifiers: { email: 'a@b.co' } }]
    })
  })

  it('throws a PayloadValidationError naming each field path and rule', () => {
    const run = () =>
      parsePayload(schema, { users: [{ identifiers: { phone_number: '0555', email: 'nope' } }] }, 'Insider upsert')
    expect(run).toThrow(PayloadValidationError)
    expect(run).toThrow(
      'Insider upsert: users[0].identifiers.phone_number must be an E.164 phone number: "+" then 7 to 15 digits, e.g. +14155550100; users[0].identifiers.email must be an email address such as jane@example.com'
    )
  })

  it('says how many more issues there were past the first three', () => {
    const many = z.object({ a: z.string(), b: z.string(), c: z.string(), d: z.string(), e: z.string() })
    expect(() => parsePayload(many, {})).toThrow(/\(and 2 more\)$/)
  })
})
