import { describe, expect, it } from '@jest/globals'
import { ISO_COUNTRY_CODES } from './iso-codes'
import { COUNTRY_BY_NAME } from './country-names'
import { toCountryCode, toCurrencyCode, toE164, toUtcTimestamp } from './normalize'

describe('toE164', () => {
  it.each([
    ['+14155550100', '+14155550100'],
    ['+1 (415) 555-0100', '+14155550100'],
    ['+90 555 555 55 55', '+905555555555'],
    ['0090 555 555 55 55', '+905555555555'],
    ['+44.20.7946.0958', '+442079460958']
  ])('reads %s as %s', (input, expected) => {
    expect(toE164(input)).toBe(expected)
  })

  it.each(['0555 555 55 55', '555-0100', '+0123456789', 'call me', '+1234'])('does not guess %s', (input) => {
    expect(toE164(input)).toBeUndefined()
  })
})

describe('toCountryCode', () => {
  it.each([
    ['US', 'US'],
    ['tr', 'TR'],
    ['USA', 'US'],
    ['United States', 'US'],
    ['united kingdom', 'GB'],
    ['U.K.', 'GB'],
    ['Türkiye', 'TR'],
    ['Turkey', 'TR'],
    ['Deutschland', 'DE'],
    ['The Netherlands', 'NL'],
    ['Côte d’Ivoire', 'CI'],
    ['Bosnia & Herzegovina', 'BA'],
    [' Japan ', 'JP']
  ])('reads %s as %s', (input, expected) => {
    expect(toCountryCode(input)).toBe(expected)
  })

  it.each(['Congo', 'Korea', 'Atlantis', 'XX', ''])('does not guess %s', (input) => {
    expect(toCountryCode(input)).toBeUndefined()
  })

  it('names only assigned codes, and every assigned code has a name', () => {
    const named = new Set(COUNTRY_BY_NAME.values())
    expect([...named].filter((code) => !ISO_COUNTRY_CODES.has(code))).toStrictEqual([])
    expect([...ISO_COUNTRY_CODES].filter((code) => !named.has(code))).toStrictEqual([])
  })
})

describe('toCurrencyCode and toUtcTimestamp', () => {
  it('upper-cases a known currency and refuses an unknown one', () => {
    expect(toCurrencyCode(' usd')).toBe('USD')
    expect(toCurrencyCode('Eur')).toBe('EUR')
    expect(toCurrencyCode('dollars')).toBeUndefined()
    expect(toCurrencyCode('XYZ')).toBeUndefined()
  })

  it.each([
    ['1990-04-12', '1990-04-12T00:00:00Z'],
    ['1990-04-12T10:30:00+03:00', '1990-04-12T07:30:00Z'],
    ['1990-04-12T10:30:00.250-0500', '1990-04-12T15:30:00.250Z'],
    ['1990-04-12 23:30:00Z', '1990-04-12T23:30:00Z'],
    ['2024-05-01T12:00:00.000Z', '2024-05-01T12:00:00Z']
  ])('reads %s as %s', (input, expected) => {
    expect(toUtcTimestamp(input)).toBe(expected)
  })

  it.each(['04/12/1990', '1990-02-31', '1990-04-12T10:30:00', 'yesterday'])('does not guess %s', (input) => {
    expect(toUtcTimestamp(input)).toBeUndefined()
  })
})
