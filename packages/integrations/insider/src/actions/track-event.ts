import { defineFields, eventFields, type InferPayload } from '@open-actions/core'
import { insiderAction } from '../insider-action'
import { customParametersField, identifierFields, insiderBatchingFields, timestampField } from '../insider-fields'
import { buildIdentifiers, customParams, insiderEvent, toInsiderEventName } from '../insider-mapping'
import { ECOMMERCE_EVENT_NAMES } from './ecommerce-events'

const fields = defineFields({
  ...identifierFields,
  event_name: eventFields.event_name,
  ...timestampField,
  ...customParametersField,
  ...insiderBatchingFields
})
export type TrackEventPayload = InferPayload<typeof fields>

export const trackEvent = insiderAction<TrackEventPayload>({
  title: 'Track Event',
  description:
    'Record any other event in Insider One: the event name snake-cased, its properties as custom event parameters.',
  // Every track except the e-commerce events that have their own action, so the presets send one Insider event
  // per Segment event.
  defaultSubscription: `type = "track" and ${ECOMMERCE_EVENT_NAMES.map((name) => `event != "${name}"`).join(' and ')}`,
  fields,
  toUser: (payload) => {
    const custom = customParams(payload.custom_parameters)
    return {
      identifiers: buildIdentifiers(payload),
      events: [insiderEvent(toInsiderEventName(payload.event_name), payload.timestamp, { custom })]
    }
  }
})
