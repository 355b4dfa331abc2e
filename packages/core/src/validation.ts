import { PayloadValidationError } from '@segment/actions-core'
import { z } from 'zod'
import { ISO_COUNTRY_CODES, ISO_CURRENCY_CODES } from './iso-codes'

/** E.164: a `+`, a non-zero country digit, then 6 to 14 more digits (7–15 digits in all). */
export const e164Phone = z
  .string()
  .regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 phone number: "+" then 7 to 15 digits, e.g. +14155550100')

/** A single address with a local part, an `@` and a dotted domain, no spaces. */
export const email = z.string().regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'must be an email address such as jane@example.com')

export const countryCode = z
  .string()
  .refine((value) => ISO_COUNTRY_CODES.has(value), 'must be an ISO 3166-1 alpha-2 country code such as "US"')

export const currencyCode = z
  .string()
  .refine((value) => ISO_CURRENCY_CODES.has(value), 'must be an ISO 4217 currency code such as "USD"')

const RFC_3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/

/** An RFC 3339 date-time with an explicit offset (`Z` or `±hh:mm`), which is also a valid date. */
export const rfc3339 = z
  .string()
  .refine(
    (value) => RFC_3339.test(value) && !Number.isNaN(Date.parse(value)),
    'must be an RFC 3339 timestamp such as 2024-05-01T12:00:00Z'
  )

/** Tags as most vendors store them: a flat map of string keys to string values. */
export const flatStringTags = z.record(
  z.string().min(1, 'tag keys must not be empty'),
  z.string({ error: 'tag values must be strings; nested objects and arrays cannot be tags' })
)

/** UTF-8 size of a value as it goes on the wire (JSON). */
export function jsonByteLength(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8')
}

/** Adds a byte-size limit (measured as JSON, in UTF-8) to a schema. */
export function withMaxBytes<Schema extends z.ZodType>(schema: Schema, maxBytes: number, what: string): Schema {
  return schema.refine((value) => jsonByteLength(value) <= maxBytes, {
    message: `${what} must be at most ${maxBytes} bytes as JSON`
  }) as unknown as Schema
}

/** `users[0].identifiers.email` from zod's `['users', 0, 'identifiers', 'email']`. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let formatted = ''
  for (const segment of path) {
    if (typeof segment === 'number') formatted += `[${segment}]`
    else formatted += formatted === '' ? String(segment) : `.${String(segment)}`
  }
  return formatted === '' ? '(payload)' : formatted
}

const MAX_ISSUES_IN_MESSAGE = 3

/**
 * One zod failure → one actions-core `PayloadValidationError` (400, not retried) whose message names each
 * failing field path and the rule it broke, e.g. `identifiers.phone_number must be an E.164 phone number…`.
 */
export function toPayloadValidationError(error: z.ZodError, prefix?: string): PayloadValidationError {
  const issues = error.issues
    .slice(0, MAX_ISSUES_IN_MESSAGE)
    .map((issue) => `${formatIssuePath(issue.path)} ${issue.message}`)
  const more =
    error.issues.length > MAX_ISSUES_IN_MESSAGE ? ` (and ${error.issues.length - MAX_ISSUES_IN_MESSAGE} more)` : ''
  return new PayloadValidationError(`${prefix ? `${prefix}: ` : ''}${issues.join('; ')}${more}`)
}

/** Parses `value` with `schema`, or throws the `PayloadValidationError` from `toPayloadValidationError`. */
export function parsePayload<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
  prefix?: string
): z.output<Schema> {
  const result = schema.safeParse(value)
  if (!result.success) throw toPayloadValidationError(result.error, prefix)
  return result.data
}
