import { createHash } from 'node:crypto'
import { PayloadValidationError } from '@segment/actions-core'
import { parsePayload } from '@open-actions/core'
import { z } from 'zod'

/** Tracking API limits (segment.com/docs/connections/sources/catalog/libraries/server/http-api#max-request-size). */
export const SEGMENT_LIMITS = { maxMessageBytes: 32 * 1024, maxBatchBytes: 500 * 1024 } as const

export const MESSAGE_TYPES = ['identify', 'track', 'page', 'screen', 'group', 'alias'] as const
export type MessageType = (typeof MESSAGE_TYPES)[number]

const jsonObject = z.record(z.string(), z.unknown())

const timestampSchema = z.union([z.string(), z.date()]).transform((value, context) => {
  const date = value instanceof Date ? value : new Date(value)
  if (Number.isNaN(date.getTime())) {
    context.addIssue({ code: 'custom', message: 'must be an ISO 8601 timestamp such as 2024-05-01T12:00:00.000Z' })
    return z.NEVER
  }
  return date.toISOString()
})

const common = {
  userId: z.string().min(1).optional(),
  anonymousId: z.string().min(1).optional(),
  messageId: z.string().min(1).max(200).optional(),
  timestamp: timestampSchema.optional(),
  context: jsonObject.optional(),
  integrations: jsonObject.optional()
}

/** What a caller may hand the client: a Segment spec message (segment.com/docs/connections/spec). */
export const segmentMessageInputSchema = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('identify'), traits: jsonObject.optional(), ...common }),
    z.strictObject({
      type: z.literal('track'),
      event: z.string().min(1),
      properties: jsonObject.optional(),
      ...common
    }),
    z.strictObject({
      type: z.literal('page'),
      name: z.string().optional(),
      category: z.string().optional(),
      properties: jsonObject.optional(),
      ...common
    }),
    z.strictObject({
      type: z.literal('screen'),
      name: z.string().optional(),
      category: z.string().optional(),
      properties: jsonObject.optional(),
      ...common
    }),
    z.strictObject({ type: z.literal('group'), groupId: z.string().min(1), traits: jsonObject.optional(), ...common }),
    z.strictObject({ type: z.literal('alias'), previousId: z.string().min(1), ...common })
  ])
  .refine((message) => message.userId !== undefined || message.anonymousId !== undefined, {
    message: 'needs a userId or an anonymousId',
    path: ['userId']
  })
  .refine((message) => message.type !== 'alias' || message.userId !== undefined, {
    message: 'is required for alias',
    path: ['userId']
  })

export type SegmentMessageInput = z.input<typeof segmentMessageInputSchema>
export type SegmentMessage = z.output<typeof segmentMessageInputSchema> & { messageId: string; timestamp: string }

/** A message larger than the Tracking API's 32 KB per message: never sent. */
export class MessageTooLargeError extends PayloadValidationError {
  readonly messageId: string
  readonly bytes: number

  constructor(messageId: string, bytes: number) {
    super(
      `Segment message ${messageId} is ${bytes} bytes; the Tracking API accepts at most ${SEGMENT_LIMITS.maxMessageBytes} bytes per message`
    )
    this.messageId = messageId
    this.bytes = bytes
  }
}

/**
 * A deterministic `messageId`: the same message content always gets the same id, so a retried send (by us,
 * a runtime, or a caller calling again) is deduplicated by Segment instead of counted twice.
 */
export function deriveMessageId(message: object): string {
  return `oa-${createHash('sha256').update(canonicalJson(message)).digest('hex').slice(0, 32)}`
}

/** JSON with object keys sorted, so key order never changes a derived id. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, entry]) => entry !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([key, entry]) => `${JSON.stringify(key)}:${canonicalJson(entry)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/**
 * Validates a message (the error names the field), normalises its timestamp to ISO 8601, adds a
 * `messageId` when missing and refuses one over 32 KB.
 */
export function prepareMessage(input: unknown, now: () => Date = () => new Date()): SegmentMessage {
  return prepareSerializedMessage(input, now).message
}

/** `prepareMessage`, with the message's JSON text (serialized for the 32 KB limit, and ready to send as it is). */
export function prepareSerializedMessage(
  input: unknown,
  now: () => Date = () => new Date()
): { readonly message: SegmentMessage; readonly json: string } {
  const parsed = parsePayload(segmentMessageInputSchema, input, 'Segment message')
  const timestamp = parsed.timestamp ?? now().toISOString()
  const withTimestamp = { ...parsed, timestamp }
  const message: SegmentMessage = { ...withTimestamp, messageId: parsed.messageId ?? deriveMessageId(withTimestamp) }
  const json = JSON.stringify(message)
  const bytes = Buffer.byteLength(json, 'utf8')
  if (bytes > SEGMENT_LIMITS.maxMessageBytes) throw new MessageTooLargeError(message.messageId, bytes)
  return { message, json }
}
