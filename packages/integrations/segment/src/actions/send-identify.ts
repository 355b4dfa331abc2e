import { compact } from '@open-actions/core'
import { defineFields, eventFields, type InferPayload } from '@open-actions/core'
import { commonMessage, commonMessageFields, sendMessageAction } from './send-message'

const fields = defineFields({ ...commonMessageFields, traits: eventFields.traits })
export type SendIdentifyPayload = InferPayload<typeof fields>

export const sendIdentify = sendMessageAction<SendIdentifyPayload>({
  title: 'Send Identify',
  description: 'Send an identify call to Segment: who the user is and their traits.',
  defaultSubscription: 'type = "identify"',
  fields,
  toMessage: (payload) => compact({ type: 'identify', ...commonMessage(payload), traits: payload.traits })
})
