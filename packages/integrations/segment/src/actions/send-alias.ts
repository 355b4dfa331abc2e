import { compact } from '@open-actions/core'
import { defineFields, identityFields, type InferPayload } from '@open-actions/core'
import { commonMessage, commonMessageFields, sendMessageAction } from './send-message'

const fields = defineFields({
  ...commonMessageFields,
  user_id: { ...identityFields.user_id, required: true },
  previous_id: {
    label: 'Previous ID',
    description: 'The identity the user had before (Segment `previousId`).',
    type: 'string',
    required: true,
    default: { '@path': '$.previousId' }
  }
})
export type SendAliasPayload = InferPayload<typeof fields>

export const sendAlias = sendMessageAction<SendAliasPayload>({
  title: 'Send Alias',
  description: 'Send an alias call to Segment: merge a previous identity into a user.',
  defaultSubscription: 'type = "alias"',
  fields,
  toMessage: (payload) => compact({ type: 'alias', ...commonMessage(payload), previousId: payload.previous_id })
})
