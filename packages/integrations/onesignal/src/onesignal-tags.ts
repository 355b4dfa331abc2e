import { RESERVED_TAG_KEYS } from './onesignal-api'

export interface LeftOutTrait {
  readonly trait: string
  readonly reason: string
}

export interface TagConversion {
  /** Flat string tags; `""` removes a tag. */
  readonly tags: Record<string, string>
  /** Every trait that was not sent, and why: nothing is dropped silently. */
  readonly leftOut: LeftOutTrait[]
}

/** The seed: OneSignal stores firstName and lastName as the tags first_name and last_name. */
const RENAMED = new Map([
  ['firstName', 'first_name'],
  ['lastName', 'last_name']
])
/** The seed: email and phone are not stored as tags (OneSignal keeps them on email and SMS subscriptions). */
const NOT_TAGS = new Set(['email', 'phone'])

function scalarTag(value: unknown): string | undefined {
  if (value === null || value === undefined) return ''
  if (typeof value === 'string') return value.trim() === '' ? '' : value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return undefined
}

/**
 * Segment traits or properties → OneSignal data tags, following the OneSignal seed:
 * values become strings; null or blank values remove the tag (`""`); nested objects and arrays cannot be tags,
 * so they are left out with a reason, or flattened (`address.city` → `address_city`) when `flatten` is on.
 */
export function toTags(
  values: Readonly<Record<string, unknown>>,
  options: { readonly flatten: boolean; readonly what: 'trait' | 'property' }
): TagConversion {
  const tags: Record<string, string> = {}
  const leftOut: LeftOutTrait[] = []

  const add = (key: string, value: unknown, path: string) => {
    if (key.trim() === '') {
      leftOut.push({ trait: path, reason: 'an empty key cannot be a OneSignal tag' })
      return
    }
    if (RESERVED_TAG_KEYS.has(key)) {
      leftOut.push({ trait: path, reason: `"${key}" is a tag key OneSignal reserves` })
      return
    }
    const scalar = scalarTag(value)
    if (scalar !== undefined) {
      tags[key] = scalar
      return
    }
    if (!options.flatten) {
      const kind = Array.isArray(value) ? 'arrays' : 'nested objects'
      leftOut.push({
        trait: path,
        reason: `${kind} cannot be OneSignal tags; turn on "Flatten Nested Values" to send them as ${key}_… tags`
      })
      return
    }
    const entries = Array.isArray(value)
      ? value.map((item, index) => [String(index), item] as const)
      : Object.entries(value as Record<string, unknown>)
    if (entries.length === 0) tags[key] = ''
    for (const [childKey, child] of entries) add(`${key}_${childKey}`, child, `${path}.${childKey}`)
  }

  for (const [key, value] of Object.entries(values)) {
    if (NOT_TAGS.has(key)) {
      leftOut.push({
        trait: key,
        reason: `${key} is not stored as a tag; OneSignal keeps it on the user's ${key === 'email' ? 'email' : 'SMS'} subscription`
      })
      continue
    }
    // A Map, not an object: a trait named "toString" must not find Object.prototype (a fuzz finding).
    add(RENAMED.get(key) ?? key, value, key)
  }
  return { tags, leftOut }
}

/** OneSignal takes at most 100 property updates per request. */
export function chunkTags(tags: Readonly<Record<string, string>>, size: number): Record<string, string>[] {
  const entries = Object.entries(tags)
  const chunks: Record<string, string>[] = []
  for (let start = 0; start < entries.length; start += size)
    chunks.push(Object.fromEntries(entries.slice(start, start + size)))
  return chunks
}
