import { COUNTRY_BY_NAME, countryKey } from './country-names'
import { ISO_COUNTRY_CODES, ISO_CURRENCY_CODES } from './iso-codes'

/*
 * Readers for values that arrive in a looser form than a vendor takes, where the meaning is unambiguous. Each returns
 * the vendor's form, or undefined when the value cannot be read without guessing: the caller then leaves that one
 * attribute out (and says so), rather than refusing a whole event over it.
 */

const E164 = /^\+[1-9]\d{6,14}$/

/**
 * An E.164 phone number from one written with spaces, dashes, dots or brackets, or with `00` in place of `+`.
 * A number without its country code (`0555 555 55 55`) cannot be read: which country it belongs to is a guess.
 */
export function toE164(value: string): string | undefined {
  const compact = value.trim().replace(/[\s().-]/g, '')
  const international = compact.startsWith('00') ? `+${compact.slice(2)}` : compact
  return E164.test(international) ? international : undefined
}

/** An ISO 3166-1 alpha-2 code from a code in any case, a common alpha-3 code, or an English country name. */
export function toCountryCode(value: string): string | undefined {
  const trimmed = value.trim()
  const upper = trimmed.toUpperCase()
  if (upper.length === 2 && ISO_COUNTRY_CODES.has(upper)) return upper
  return COUNTRY_BY_NAME.get(countryKey(trimmed))
}

/** An ISO 4217 code from one in any case and with spaces around it (`usd ` → `USD`). */
export function toCurrencyCode(value: string): string | undefined {
  const upper = value.trim().toUpperCase()
  return ISO_CURRENCY_CODES.has(upper) ? upper : undefined
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})$/

/**
 * RFC 3339 in UTC (`…Z`, without milliseconds when they are zero) from an ISO 8601 date (midnight UTC) or date-time
 * with a `Z` or an offset (converted to UTC). Other forms (`04/12/1990`: April or December?) are not read.
 */
export function toUtcTimestamp(value: string): string | undefined {
  const trimmed = value.trim()
  const date = ISO_DATE.exec(trimmed)
  if (date) {
    const parsed = new Date(`${trimmed}T00:00:00Z`)
    // Date accepts 2024-02-31 as 2 March: refuse dates that do not exist.
    return Number.isNaN(parsed.getTime()) || parsed.getUTCDate() !== Number(date[3])
      ? undefined
      : `${trimmed}T00:00:00Z`
  }
  if (!ISO_DATE_TIME.test(trimmed)) return undefined
  const parsed = new Date(trimmed.replace(' ', 'T').replace(/([+-]\d{2})(\d{2})$/, '$1:$2'))
  if (Number.isNaN(parsed.getTime())) return undefined
  return parsed.toISOString().replace(/\.000Z$/, 'Z')
}
