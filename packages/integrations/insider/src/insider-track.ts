import { defineFields, type InferPayload } from '@open-actions/core'
import type { InsiderEvent } from './insider-api'
import {
  contextFields,
  customParametersField,
  identifierFields,
  insiderBatchingFields,
  timestampField,
  userAttributesField
} from './insider-fields'
import { buildAttributes, buildIdentifiers, type Notes } from './insider-mapping'

/** The fields every event action shares: who (identifiers, user attributes), when, the event's properties, where. */
export const eventActionFields = defineFields({
  ...identifierFields,
  ...timestampField,
  ...customParametersField,
  ...contextFields,
  ...userAttributesField,
  ...insiderBatchingFields
})

type EventActionPayload = InferPayload<typeof eventActionFields>

/**
 * One Insider user record for an event: its identifiers, the user's attributes as the event carries them (as Segment's
 * own Insider destination sends them with every track), and the event(s).
 */
export function eventUser(payload: EventActionPayload, events: InsiderEvent[], notes: Notes) {
  const attributes = buildAttributes({ ...payload.user_attributes, email: payload.email, phone: payload.phone }, notes)
  return {
    identifiers: buildIdentifiers(payload, notes),
    ...(Object.keys(attributes).length > 0 ? { attributes } : {}),
    events
  }
}
