import type { ActionDefinition } from '@segment/actions-core'
import {
  assertRecordDelivered,
  batchingFields,
  defineFields,
  deliverBatch,
  eventFields,
  identityFields,
  type InferPayload,
  parsePayload
} from '@open-actions/core'
import {
  type CustomEvent,
  customEventSchema,
  ONESIGNAL_LIMITS,
  type OneSignalSettings,
  sendCustomEvents
} from '../onesignal-api'
import { requireExternalId } from '../onesignal-tag-action'

const fields = defineFields({
  name: {
    ...eventFields.event_name,
    label: 'Event Name',
    description: 'The custom event name (at most 128 characters).'
  },
  user_id: {
    ...identityFields.user_id,
    label: 'External ID',
    description: 'The OneSignal External ID: the Segment userId.'
  },
  timestamp: eventFields.timestamp,
  payload: {
    ...eventFields.properties,
    label: 'Payload',
    description: 'The event’s data (at most 2,024 bytes per event).'
  },
  ...batchingFields({ maxBatchSize: ONESIGNAL_LIMITS.maxCustomEventsPerRequest, defaultBatchSize: 100 })
})
export type SendCustomEventPayload = InferPayload<typeof fields>

function toCustomEvent(payload: SendCustomEventPayload): CustomEvent {
  const externalId = requireExternalId(payload.user_id)
  return parsePayload(
    customEventSchema,
    {
      name: payload.name,
      external_id: externalId,
      timestamp: new Date(payload.timestamp).toISOString(),
      payload: payload.payload ?? {}
    },
    'OneSignal custom event'
  )
}

export const sendCustomEvent: ActionDefinition<OneSignalSettings, SendCustomEventPayload> = {
  title: 'Send Custom Event',
  description:
    'Send a track as a OneSignal custom event (beta: OneSignal must enable custom events for your app first).',
  // No default subscription, so no preset: custom events are in beta at OneSignal; subscribe once they are enabled.
  fields,
  perform: async (request, { settings, payload }) => {
    const [outcome] = await sendCustomEvents(request, settings, [toCustomEvent(payload)])
    return assertRecordDelivered(outcome, 'OneSignal')
  },
  performBatch: (request, { settings, payload }) =>
    deliverBatch({
      payloads: payload,
      build: toCustomEvent,
      limits: {
        maxItems: payload[0]?.batch_size ?? 100,
        maxBytes: ONESIGNAL_LIMITS.maxCustomEventsRequestBytes,
        envelopeBytes: '{"events":[]}'.length
      },
      send: (events) => sendCustomEvents(request, settings, events)
    })
}
