import { compact } from '@open-actions/core'
import { defineFields, eventFields, type InferPayload } from '@open-actions/core'
import { commonMessage, commonMessageFields, sendMessageAction } from './send-message'

const fields = defineFields({
  ...commonMessageFields,
  event_name: eventFields.event_name,
  properties: eventFields.properties
})
export type SendTrackPayload = InferPayload<typeof fields>

export const sendTrack = sendMessageAction<SendTrackPayload>({
  title: 'Send Track',
  description: 'Send a track call to Segment: an action the user took, with its properties.',
  defaultSubscription: 'type = "track"',
  fields,
  toMessage: (payload) =>
    compact({ type: 'track', ...commonMessage(payload), event: payload.event_name, properties: payload.properties })
})
