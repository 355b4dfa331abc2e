import type { ActionDefinition, InputField, JSONLikeObject } from '@segment/actions-core'
import { assertRecordDelivered, deliverBatch, parsePayload } from '@open-actions/core'
import { INSIDER_LIMITS, type InsiderSettings, type InsiderUser, insiderUserSchema, upsertUsers } from './insider-api'

const UPSERT_ENVELOPE_BYTES = '{"users":[],"platform":"segment"}'.length

/** A validated Insider user, or a `PayloadValidationError` naming the field (e.g. `identifiers.phone_number`). */
export function validateUser(user: unknown): InsiderUser {
  return parsePayload(insiderUserSchema, user, 'Insider user')
}

/**
 * Every Insider cloud action has this shape: one Segment event becomes one Insider user record (identifiers,
 * attributes and/or events) sent to the upsert endpoint; batches hold up to 1,000 users and 5 MB per request,
 * and a 200 that reports failed users fails exactly those.
 */
export function insiderAction<Payload extends JSONLikeObject & { batch_size?: number }>(definition: {
  readonly title: string
  readonly description: string
  readonly defaultSubscription: string
  readonly fields: Record<string, InputField>
  readonly toUser: (payload: Payload) => unknown
}): ActionDefinition<InsiderSettings, Payload> {
  const build = (payload: Payload) => validateUser(definition.toUser(payload))
  return {
    title: definition.title,
    description: definition.description,
    defaultSubscription: definition.defaultSubscription,
    fields: definition.fields,
    perform: async (request, { payload }) => {
      const [outcome] = await upsertUsers(request, [build(payload)])
      return assertRecordDelivered(outcome, 'Insider')
    },
    performBatch: (request, { payload }) =>
      deliverBatch({
        payloads: payload,
        build,
        limits: {
          maxItems: payload[0]?.batch_size ?? INSIDER_LIMITS.maxUsers,
          maxBytes: INSIDER_LIMITS.maxBytes,
          envelopeBytes: UPSERT_ENVELOPE_BYTES
        },
        send: (users) => upsertUsers(request, users)
      })
  }
}
