import { defineFields, eventFields, type InferPayload } from '@open-actions/core'
import { insiderAction } from '../insider-action'
import { contextParams, eventParams, insiderEvent, toInsiderEventName, withContext } from '../insider-mapping'
import { eventActionFields, eventUser } from '../insider-track'
import { ECOMMERCE_EVENT_NAMES } from './ecommerce-events'

const fields = defineFields({ ...eventActionFields, event_name: eventFields.event_name })
export type TrackEventPayload = InferPayload<typeof fields>

export const trackEvent = insiderAction<TrackEventPayload>({
  title: 'Track Event',
  description:
    'Record any other event in Insider One, as the seed says: the name (snake-cased) becomes the event name, and every property an event parameter (a standard one where Insider has it, otherwise custom).',
  // Every track except the e-commerce events that have their own action, so the presets send one Insider event
  // per Segment event.
  defaultSubscription: `type = "track" and ${ECOMMERCE_EVENT_NAMES.map((name) => `event != "${name}"`).join(' and ')}`,
  fields,
  toUser: (payload, notes) =>
    eventUser(
      payload,
      [
        insiderEvent(
          toInsiderEventName(payload.event_name),
          payload.timestamp,
          withContext(eventParams(payload.custom_parameters), contextParams(payload))
        )
      ],
      notes
    )
})
