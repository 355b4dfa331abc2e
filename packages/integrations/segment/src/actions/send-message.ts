import type { ActionDefinition, InputField, JSONLikeObject } from '@segment/actions-core'
import {
  batchingFields,
  defineFields,
  eventFields,
  identityFields,
  type InferPayload,
  multiStatusFromOutcomes
} from '@open-actions/core'
import type { SegmentMessageInput } from '../segment-message'
import type { SegmentSettings } from '../segment-settings'
import { createSegmentClient } from '../tracking-client'

/** Fields every Segment call carries. Batches go through `/v1/batch`, which holds at most 500 KB per request. */
export const commonMessageFields = defineFields({
  user_id: identityFields.user_id,
  anonymous_id: identityFields.anonymous_id,
  timestamp: { ...eventFields.timestamp, required: false },
  message_id: eventFields.message_id,
  context: {
    label: 'Context',
    description: 'The Segment `context` object.',
    type: 'object',
    default: { '@path': '$.context' }
  },
  ...batchingFields({ maxBatchSize: 1000, defaultBatchSize: 500 })
})

type CommonPayload = InferPayload<typeof commonMessageFields>

export function commonMessage(payload: CommonPayload) {
  return {
    userId: payload.user_id,
    anonymousId: payload.anonymous_id,
    timestamp: payload.timestamp,
    messageId: payload.message_id,
    context: payload.context
  }
}

/**
 * One action per Segment call type, all sharing this shape: map the payload to a Segment message, send it to
 * `/v1/<type>` one by one, or through `/v1/batch` in batches with one result per event.
 */
export function sendMessageAction<Payload extends CommonPayload & JSONLikeObject>(definition: {
  readonly title: string
  readonly description: string
  readonly defaultSubscription: string
  readonly fields: Record<string, InputField>
  readonly toMessage: (payload: Payload) => SegmentMessageInput
}): ActionDefinition<SegmentSettings, Payload> {
  return {
    title: definition.title,
    description: definition.description,
    defaultSubscription: definition.defaultSubscription,
    fields: definition.fields,
    perform: async (request, { settings, payload }) => {
      const client = createSegmentClient({ writeKey: settings.write_key, region: settings.region, request })
      return (await client.send(definition.toMessage(payload))) as unknown as JSONLikeObject
    },
    performBatch: async (request, { settings, payload }) => {
      const client = createSegmentClient({ writeKey: settings.write_key, region: settings.region, request })
      const { outcomes } = await client.batch(payload.map((item) => definition.toMessage(item)))
      return multiStatusFromOutcomes(outcomes)
    }
  }
}
