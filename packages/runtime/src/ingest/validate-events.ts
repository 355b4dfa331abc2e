import type { SegmentEvent } from '@segment/actions-core'

/** The Segment spec's message types (segment.com/docs/connections/spec). */
export const EVENT_TYPES = ['identify', 'track', 'page', 'screen', 'group', 'alias'] as const

export const MAX_EVENTS_PER_REQUEST = 1000
/** Per event, as Segment's Tracking API (32 KB per message). */
export const MAX_EVENT_BYTES = 32 * 1024
/** Deeper than any real event; deep enough input would overflow recursive mappers downstream. */
export const MAX_DEPTH = 64

/** A request that cannot be accepted as a whole: names the event, the field and the rule. Nothing of it is kept. */
export class EventValidationError extends Error {
  readonly status: number

  constructor(message: string, status = 400) {
    super(message)
    this.name = 'EventValidationError'
    this.status = status
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The path of the first value nested deeper than `limit`, or undefined. Iterative: deep input cannot overflow it. */
function tooDeep(root: unknown, limit: number): string | undefined {
  const stack: { value: unknown; depth: number; path: string }[] = [{ value: root, depth: 0, path: '' }]
  while (stack.length > 0) {
    const { value, depth, path } = stack.pop() as { value: unknown; depth: number; path: string }
    if (typeof value !== 'object' || value === null) continue
    if (depth >= limit) return path
    const entries = Array.isArray(value)
      ? value.map((item, index) => [String(index), item] as const)
      : Object.entries(value)
    for (const [key, item] of entries)
      if (typeof item === 'object' && item !== null)
        stack.push({ value: item, depth: depth + 1, path: path === '' ? key : `${path}.${key}` })
  }
  return undefined
}

function shorten(path: string): string {
  return path.length > 80 ? `${path.slice(0, 40)}…${path.slice(-30)}` : path
}

/** Checks one event against the rules every ingestion route shares; throws naming the field and the rule. */
export function validateEvent(value: unknown, where: string): SegmentEvent {
  if (!isObject(value) || typeof value.type !== 'string')
    throw new EventValidationError(`${where} is not a Segment event: it must be an object with a string "type"`)
  if (!(EVENT_TYPES as readonly string[]).includes(value.type))
    throw new EventValidationError(
      `${where}: type "${value.type.slice(0, 40)}" is not one of ${EVENT_TYPES.join(', ')}`
    )
  if (
    value.messageId !== undefined &&
    (typeof value.messageId !== 'string' || value.messageId === '' || value.messageId.length > 200)
  )
    throw new EventValidationError(`${where}: messageId must be a non-empty string of at most 200 characters`)
  const deep = tooDeep(value, MAX_DEPTH)
  if (deep !== undefined)
    throw new EventValidationError(`${where}: ${shorten(deep)} is nested more than ${MAX_DEPTH} levels deep`)
  const bytes = Buffer.byteLength(JSON.stringify(value))
  if (bytes > MAX_EVENT_BYTES)
    throw new EventValidationError(`${where} is ${bytes} bytes; at most ${MAX_EVENT_BYTES} bytes per event`, 413)
  return value as unknown as SegmentEvent
}

/**
 * A request body of `POST /v1/events`: one event or a non-empty array of at most 1,000. All or nothing: the first bad
 * event fails the whole request, so a client never has to work out which half was kept.
 */
export function validateEvents(body: unknown): SegmentEvent[] {
  const events = Array.isArray(body) ? body : [body]
  if (events.length === 0) throw new EventValidationError('send one Segment event or a non-empty array of them')
  if (events.length > MAX_EVENTS_PER_REQUEST)
    throw new EventValidationError(`at most ${MAX_EVENTS_PER_REQUEST} events per request; got ${events.length}`, 413)
  return events.map((event, index) => validateEvent(event, `event ${index}`))
}
