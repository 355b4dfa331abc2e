import { compact } from '@open-actions/core'
import { defineFields, eventFields, type InferPayload } from '@open-actions/core'
import { commonMessage, commonMessageFields, sendMessageAction } from './send-message'

const fields = defineFields({
  ...commonMessageFields,
  group_id: {
    label: 'Group ID',
    description: 'The group (account, company) the user belongs to.',
    type: 'string',
    required: true,
    default: { '@path': '$.groupId' }
  },
  traits: eventFields.traits
})
export type SendGroupPayload = InferPayload<typeof fields>

export const sendGroup = sendMessageAction<SendGroupPayload>({
  title: 'Send Group',
  description: 'Send a group call to Segment: the group a user belongs to, and the group’s traits.',
  defaultSubscription: 'type = "group"',
  fields,
  toMessage: (payload) =>
    compact({ type: 'group', ...commonMessage(payload), groupId: payload.group_id, traits: payload.traits })
})
