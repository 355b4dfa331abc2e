import { PayloadValidationError } from '@segment/actions-core'
import type { SegmentMessage } from '@open-actions/core'
import { z } from 'zod'

export const INTEGRATION_CONTEXT = { name: 'one-creation', version: '1.0.0' } as const
export const EXPIRED_VALUE = 'Expired'

export const FLOW_EVENTS = {
  submitted: 'Submitted Preferences',
  extended: 'Extended Preferences',
  expired: 'Expired Data'
} as const
export type Flow = keyof typeof FLOW_EVENTS

const answerValue = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.null(),
  z.array(z.union([z.string(), z.number(), z.boolean()]))
])

const base = {
  /** One Creation's id of this response (or extension, or expiry); redelivery keeps it, so it is counted once. */
  response_id: z.string().min(1),
  /** One Creation's user id, which is the Segment userId. */
  user_id: z.string().min(1),
  email: z.email().optional(),
  campaign: z.strictObject({ id: z.string().min(1), name: z.string().min(1) }),
  response_at: z.iso.datetime({ offset: true })
}

/** What One Creation sends for each flow. */
export const preferencePayloadSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('submitted'),
    ...base,
    answers: z
      .record(z.string().min(1), answerValue)
      .refine((answers) => Object.keys(answers).length > 0, 'must hold at least one answer')
  }),
  z.strictObject({
    type: z.literal('extended'),
    ...base,
    answers: z
      .record(z.string().min(1), answerValue)
      .refine((answers) => Object.keys(answers).length > 0, 'must hold at least one answer')
  }),
  z.strictObject({ type: z.literal('expired'), ...base, question_keys: z.array(z.string().min(1)).min(1) })
])
export type PreferencePayload = z.output<typeof preferencePayloadSchema>
export type PreferenceInput<Type extends Flow> = Omit<
  Extract<z.input<typeof preferencePayloadSchema>, { type: Type }>,
  'type'
>

/**
 * The one way a question key becomes a trait key: lower case, every run of characters other than a–z and 0–9
 * becomes a single underscore, underscores at either end are dropped. `Favourite Colour?` → `favourite_colour`,
 * `newsletter-opt-in` → `newsletter_opt_in`. Stable: the same question always gives the same trait.
 */
export function traitKeyOf(questionKey: string): string {
  const key = questionKey
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
  if (key === '')
    throw new PayloadValidationError(
      `question key ${JSON.stringify(questionKey)} has no letters or digits to make a trait key from`
    )
  return key
}

function toTraits(entries: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  const traits: Record<string, unknown> = {}
  const source: Record<string, string> = {}
  for (const [question, value] of entries) {
    const key = traitKeyOf(question)
    if (source[key] !== undefined) {
      throw new PayloadValidationError(
        `questions ${JSON.stringify(source[key])} and ${JSON.stringify(question)} both become the trait "${key}"`
      )
    }
    source[key] = question
    traits[key] = value
  }
  return traits
}

/**
 * Each flow is an identify (the traits) followed by a track (the event), as One Creation's guide describes.
 * messageIds derive from the response id, so a redelivered response does not count twice.
 */
export function preferenceMessages(payload: PreferencePayload): SegmentMessage[] {
  const traits =
    payload.type === 'expired'
      ? toTraits(payload.question_keys.map((question) => [question, EXPIRED_VALUE] as const))
      : toTraits(Object.entries(payload.answers))
  const context = {
    campaign: { id: payload.campaign.id, name: payload.campaign.name },
    integration: { ...INTEGRATION_CONTEXT }
  }
  const messageId = (kind: 'identify' | 'track') => `one-creation-${payload.response_id}-${kind}`
  return [
    {
      type: 'identify',
      userId: payload.user_id,
      messageId: messageId('identify'),
      timestamp: payload.response_at,
      traits: { ...traits, ...(payload.email ? { email: payload.email } : {}) },
      context
    },
    {
      type: 'track',
      userId: payload.user_id,
      messageId: messageId('track'),
      timestamp: payload.response_at,
      event: FLOW_EVENTS[payload.type],
      properties: { ...traits, response_at: payload.response_at },
      context
    }
  ]
}
