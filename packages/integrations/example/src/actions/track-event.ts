import type { ActionDefinition } from '@segment/actions-core'
import {
  assertRecordDelivered,
  batchingFields,
  deliverBatch,
  defineFields,
  eventFields,
  identityFields,
  type InferPayload,
  parsePayload
} from '@open-actions/core'
import { EXAMPLE_LIMITS, type ExampleEvent, exampleEventSchema, type ExampleSettings, sendEvents } from '../example-api'

const fields = defineFields({
  event_name: eventFields.event_name,
  user_id: identityFields.user_id,
  anonymous_id: identityFields.anonymous_id,
  message_id: eventFields.message_id,
  timestamp: eventFields.timestamp,
  properties: eventFields.properties,
  ...batchingFields({ maxBatchSize: EXAMPLE_LIMITS.maxItems })
})
export type TrackEventPayload = InferPayload<typeof fields>

function toExampleEvent(payload: TrackEventPayload): ExampleEvent {
  return parsePayload(
    exampleEventSchema,
    {
      name: payload.event_name,
      user_id: payload.user_id,
      anonymous_id: payload.anonymous_id,
      message_id: payload.message_id,
      timestamp: payload.timestamp,
      properties: payload.properties ?? {}
    },
    'Example Vendor event'
  )
}

export const trackEvent: ActionDefinition<ExampleSettings, TrackEventPayload> = {
  title: 'Track Event',
  description: 'Record an event in Example Vendor. Events the vendor refuses are reported one by one.',
  defaultSubscription: 'type = "track"',
  fields,
  perform: async (request, { settings, payload }) => {
    const [outcome] = await sendEvents(request, settings, [toExampleEvent(payload)])
    return assertRecordDelivered(outcome, 'Example Vendor')
  },
  performBatch: (request, { settings, payload }) =>
    deliverBatch({
      payloads: payload,
      build: toExampleEvent,
      limits: {
        maxItems: payload[0]?.batch_size ?? EXAMPLE_LIMITS.maxItems,
        maxBytes: EXAMPLE_LIMITS.maxBytes,
        envelopeBytes: '{"events":[]}'.length
      },
      send: (events) => sendEvents(request, settings, events)
    })
}
