import { createHash } from 'node:crypto'
import type { SegmentEvent } from '@segment/actions-core'
import { mentionsAny } from '../mentions'
import { Ring } from '../ring'
import { EventValidationError, EVENT_TYPES, validateEvent } from './validate-events'

/** Segment's Tracking API limits: 32 KB per message, 500 KB per batch request. */
export const TRACKING_MAX_MESSAGE_BYTES = 32 * 1024
export const TRACKING_MAX_BATCH_BYTES = 500 * 1024

/** The Tracking API's routes: one message of a type, or a batch (`/v1/import` is a batch too). */
export type TrackingRoute = (typeof EVENT_TYPES)[number] | 'batch'

/** Long paths and the browser SDK's short ones (the first letter of the type; `b` for a batch). */
export const TRACKING_PATHS: Readonly<Record<string, TrackingRoute>> = {
  identify: 'identify',
  track: 'track',
  page: 'page',
  screen: 'screen',
  group: 'group',
  alias: 'alias',
  batch: 'batch',
  import: 'batch',
  i: 'identify',
  t: 'track',
  p: 'page',
  s: 'screen',
  g: 'group',
  a: 'alias',
  b: 'batch'
}

/** Why a message of an accepted request was not taken (a bounded set: also a metric label). */
export type RejectionReason =
  'not_an_object' | 'invalid_type' | 'no_identity' | 'no_event' | 'no_previous_id' | 'invalid'

export interface Rejection {
  readonly reason: RejectionReason
  /** The field at fault and the rule, e.g. `userId/anonymousId: one of them is required`. */
  readonly error: string
  /** The message as it came (without its write key), to see what the client sent. */
  readonly message: unknown
}

export interface TrackingRequest {
  /** The write key of the request: the Basic-auth user name, else `writeKey` in the body. */
  readonly writeKey: string | undefined
  /** Messages ready to ingest: type set, batch-level `context` and `integrations` merged, write key removed. */
  readonly messages: SegmentEvent[]
  readonly rejected: Rejection[]
  /** The request's `sentAt` (a batch's), for clock-skew correction of messages without their own. */
  readonly sentAt: unknown
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isIdentity(value: unknown): boolean {
  return (typeof value === 'string' && value.trim() !== '') || (typeof value === 'number' && Number.isFinite(value))
}

/** The user name of `Authorization: Basic base64(user:password)`, if the header is one. */
export function basicUser(header: string | undefined): string | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header ?? '')
  if (!match?.[1]) return undefined
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  const user = colon === -1 ? decoded : decoded.slice(0, colon)
  return user === '' ? undefined : user
}

function withoutWriteKey(message: Record<string, unknown>): Record<string, unknown> {
  if (!('writeKey' in message)) return message
  const { writeKey: _removed, ...rest } = message
  return rest
}

/**
 * One message of a Tracking API request, checked as Segment's API checks it: a Segment type, `userId` or
 * `anonymousId`, an `event` on a track, a `previousId` on an alias, plus the rules every ingestion route shares
 * (messageId, depth). Its size was checked with the request.
 */
function checkMessage(message: Record<string, unknown>, where: string): Rejection | undefined {
  const reject = (reason: RejectionReason, error: string): Rejection => ({
    reason,
    error: `${where}: ${error}`,
    message
  })
  if (typeof message.type !== 'string' || !(EVENT_TYPES as readonly string[]).includes(message.type))
    return reject('invalid_type', `type must be one of ${EVENT_TYPES.join(', ')}`)
  if (!isIdentity(message.userId) && !isIdentity(message.anonymousId))
    return reject('no_identity', 'userId or anonymousId is required (a non-empty string)')
  if (message.type === 'track' && (typeof message.event !== 'string' || message.event.trim() === ''))
    return reject('no_event', 'event is required on a track (a non-empty string)')
  if (message.type === 'alias' && !isIdentity(message.previousId))
    return reject('no_previous_id', 'previousId is required on an alias (a non-empty string)')
  try {
    validateEvent(message, where)
  } catch (error) {
    if (error instanceof EventValidationError) return { reason: 'invalid', error: error.message, message }
    throw error
  }
  return undefined
}

/**
 * A Tracking API request body (already decompressed and at most 500 KB), read as Segment's API reads it. The request as
 * a whole is refused (400, `EventValidationError` naming the field and rule) when it is not JSON, not an object, a
 * batch without a `batch` array, or holds a message over 32 KB; otherwise each message is taken or rejected on its own
 * (Segment answers 200 and validates messages later: rejected ones are reported, never delivered).
 */
export function parseTrackingRequest(
  route: TrackingRoute,
  text: string,
  authorization: string | undefined
): TrackingRequest {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (error) {
    throw new EventValidationError(`the body is not valid JSON: ${(error as Error).message}`)
  }
  if (!isObject(body)) throw new EventValidationError('the body must be a JSON object')
  const bodyKey = typeof body.writeKey === 'string' && body.writeKey !== '' ? body.writeKey : undefined
  const writeKey = basicUser(authorization) ?? bodyKey

  let raw: unknown[]
  let defaults: Record<string, unknown> = {}
  if (route === 'batch') {
    if (!Array.isArray(body.batch)) throw new EventValidationError('batch: must be an array of messages')
    raw = body.batch
    // Batch-level context and integrations apply to every message that has none of its own.
    if (isObject(body.context)) defaults = { ...defaults, context: body.context }
    if (isObject(body.integrations)) defaults = { ...defaults, integrations: body.integrations }
  } else {
    raw = [{ ...body, type: route }]
  }

  const messages: SegmentEvent[] = []
  const rejected: Rejection[] = []
  raw.forEach((item, index) => {
    const where = route === 'batch' ? `batch[${index}]` : 'message'
    if (!isObject(item)) {
      rejected.push({ reason: 'not_an_object', error: `${where}: must be a JSON object`, message: item })
      return
    }
    const bytes = Buffer.byteLength(JSON.stringify(item))
    if (bytes > TRACKING_MAX_MESSAGE_BYTES)
      throw new EventValidationError(
        `${where} is ${bytes} bytes; Segment's Tracking API takes at most ${TRACKING_MAX_MESSAGE_BYTES} bytes (32 KB) per message`
      )
    const message = withoutWriteKey({ ...defaults, ...item })
    const problem = checkMessage(message, where)
    if (problem) rejected.push(problem)
    else messages.push(message as unknown as SegmentEvent)
  })
  return { writeKey, messages, rejected, sentAt: body.sentAt }
}

/** A recorded rejection, as `GET /v1/tracking/rejected` lists it. */
export interface RejectedMessage extends Rejection {
  readonly at: string
  /** The route it came to, e.g. `/v1/t`. */
  readonly path: string
}

/**
 * The latest rejected messages of the Tracking API (a ring: the oldest go first), with the count since start. Kept in
 * memory by the process that answered; each rejection is also logged and counted in
 * `open_actions_tracking_messages_total{outcome="rejected"}`.
 */
export class RejectedMessages {
  private readonly entries: Ring<RejectedMessage>
  private count = 0

  constructor(capacity = 500) {
    this.entries = new Ring(capacity)
  }

  add(entry: RejectedMessage): void {
    this.count += 1
    this.entries.add(entry)
  }

  /** Drops every rejection that mentions one of `values` as a JSON string (a deleted user's ids). */
  forget(values: readonly string[]): void {
    this.entries.retain((entry) => !mentionsAny(entry, values))
  }

  /** Newest first. */
  list(limit: number): { readonly total: number; readonly rejected: RejectedMessage[] } {
    return { total: this.count, rejected: this.entries.toArray().slice(-limit).reverse() }
  }
}

/** The destinations each write key may send to (`undefined`: every destination), looked up by the key's digest. */
export class WriteKeys {
  private readonly byDigest = new Map<string, ReadonlySet<string> | undefined>()

  constructor(keys: Readonly<Record<string, { readonly destinations?: readonly string[] | undefined }>>) {
    for (const [key, entry] of Object.entries(keys))
      this.byDigest.set(WriteKeys.digest(key), entry.destinations ? new Set(entry.destinations) : undefined)
  }

  get size(): number {
    return this.byDigest.size
  }

  /** A key's destinations: `{ known: false }` for a key that is not configured. Compared by digest, not by value. */
  lookup(
    key: string | undefined
  ): { readonly known: false } | { readonly known: true; readonly instances?: ReadonlySet<string> } {
    if (key === undefined) return { known: false }
    const digest = WriteKeys.digest(key)
    if (!this.byDigest.has(digest)) return { known: false }
    const instances = this.byDigest.get(digest)
    return instances ? { known: true, instances } : { known: true }
  }

  private static digest(key: string): string {
    return createHash('sha256').update(key).digest('hex')
  }
}
