import { REDACTED } from './auth'

/** Headers that carry credentials whatever their value; always shown as `[REDACTED]`. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'x-request-token', 'cookie', 'x-api-key'])

export interface Redactor {
  /** The secret values this redactor removes (to extend it with more). */
  readonly secrets: readonly string[]
  /** The text with every secret (raw, URL-encoded, JSON-escaped, or inside a Basic credential) replaced. */
  text(value: string): string
  /** A deep copy of a JSON-like value with every string redacted. */
  value<T>(value: T): T
  /** Headers with credential headers and secret values replaced. */
  headers(headers: Readonly<Record<string, string>>): Record<string, string>
}

function variantsOf(secret: string): string[] {
  const variants = new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)])
  return [...variants].filter((variant) => variant.length > 0)
}

const BASIC_CREDENTIAL = /Basic\s+([A-Za-z0-9+/=]+)/g

/**
 * Removes known secret values from anything that is logged, captured or returned. Value-based rather than
 * key-based, so a secret is caught wherever it travels (a URL, an error message, a request body), and
 * `Basic` credentials are decoded so that `base64(user:secret)` is caught too.
 */
export function createRedactor(secrets: Iterable<string | undefined | null>): Redactor {
  const values = [
    ...new Set([...secrets].filter((secret): secret is string => typeof secret === 'string' && secret.length > 0))
  ]
  // Longest first, so a secret that contains another is replaced whole.
  const patterns = values.flatMap(variantsOf).sort((a, b) => b.length - a.length)
  const matcher = patterns.length > 0 ? new RegExp(patterns.map(escapeRegExp).join('|'), 'g') : undefined

  const text = (input: string): string => {
    if (!matcher) return input
    const decodedBasic = input.replace(BASIC_CREDENTIAL, (whole, encoded: string) => {
      const decoded = Buffer.from(encoded, 'base64').toString('utf8')
      return values.some((secret) => decoded.includes(secret)) ? `Basic ${REDACTED}` : whole
    })
    return decodedBasic.replace(matcher, REDACTED)
  }

  const value = <T>(input: T): T => redactDeep(input, text, new WeakSet()) as T

  return {
    secrets: values,
    text,
    value,
    headers(headers) {
      const result: Record<string, string> = {}
      for (const [name, headerValue] of Object.entries(headers)) {
        result[name] = CREDENTIAL_HEADERS.has(name.toLowerCase()) ? REDACTED : text(headerValue)
      }
      return result
    }
  }
}

function redactDeep(input: unknown, text: (value: string) => string, seen: WeakSet<object>): unknown {
  if (typeof input === 'string') return text(input)
  if (typeof input !== 'object' || input === null) return input
  if (seen.has(input)) return '[Circular]'
  seen.add(input)
  if (Array.isArray(input)) return input.map((item) => redactDeep(item, text, seen))
  const output: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(input)) output[text(key)] = redactDeep(item, text, seen)
  return output
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
