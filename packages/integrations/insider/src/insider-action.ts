import type { ActionDefinition, InputField, JSONLikeObject } from '@segment/actions-core'
import {
  assertRecordDelivered,
  deliverInChunks,
  multiStatusFromOutcomes,
  parsePayload,
  type RecordOutcome
} from '@open-actions/core'
import { INSIDER_LIMITS, type InsiderSettings, type InsiderUser, insiderUserSchema, upsertUsers } from './insider-api'
import type { Notes } from './insider-mapping'

const UPSERT_ENVELOPE_BYTES = '{"users":[],"platform":"segment"}'.length

/** A validated Insider user, or a `PayloadValidationError` naming the field (e.g. `identifiers.phone_number`). */
export function validateUser(user: unknown): InsiderUser {
  return parsePayload(insiderUserSchema, user, 'Insider user')
}

/** What an action reports for a user Insider accepted: the record sent, and what was left out of it and why. */
function delivered(sent: JSONLikeObject | string, notes: Notes): JSONLikeObject | string {
  return notes.length === 0 ? sent : ({ sent, left_out: notes } as unknown as JSONLikeObject)
}

/**
 * Every Insider cloud action has this shape: one Segment event becomes one Insider user record (identifiers,
 * attributes and/or events) sent to the upsert endpoint; batches hold up to 1,000 users and 5 MB per request,
 * and a 200 that reports failed users fails exactly those. Optional values that Insider cannot take are left out
 * (never the whole event), and each result lists them under `left_out`.
 */
export function insiderAction<Payload extends JSONLikeObject & { batch_size?: number }>(definition: {
  readonly title: string
  readonly description: string
  readonly defaultSubscription: string
  readonly fields: Record<string, InputField>
  readonly toUser: (payload: Payload, notes: Notes) => unknown
}): ActionDefinition<InsiderSettings, Payload> {
  const build = (payload: Payload, notes: Notes) => validateUser(definition.toUser(payload, notes))
  return {
    title: definition.title,
    description: definition.description,
    defaultSubscription: definition.defaultSubscription,
    fields: definition.fields,
    perform: async (request, { payload }) => {
      const notes: Notes = []
      const [outcome] = await upsertUsers(request, [build(payload, notes)])
      return delivered(assertRecordDelivered(outcome, 'Insider'), notes)
    },
    performBatch: async (request, { payload }) => {
      const notesByIndex = new Map<number, Notes>()
      const outcomes = await deliverInChunks({
        payloads: payload,
        build: (item, index) => {
          const notes: Notes = []
          const user = build(item, notes)
          if (notes.length > 0) notesByIndex.set(index, notes)
          return user
        },
        limits: {
          maxItems: payload[0]?.batch_size ?? INSIDER_LIMITS.maxUsers,
          maxBytes: INSIDER_LIMITS.maxBytes,
          envelopeBytes: UPSERT_ENVELOPE_BYTES
        },
        send: (users, json) => upsertUsers(request, users, json)
      })
      return multiStatusFromOutcomes(
        outcomes.map((outcome, index): RecordOutcome => {
          const notes = notesByIndex.get(index)
          return outcome.ok && notes ? { ...outcome, body: { left_out: notes } as unknown as JSONLikeObject } : outcome
        })
      )
    }
  }
}
