import { defineFields, type InferPayload } from '@open-actions/core'
import { insiderAction } from '../insider-action'
import { customParametersField, identifierFields, insiderBatchingFields, timestampField } from '../insider-fields'
import { buildIdentifiers, customParams, insiderEvent } from '../insider-mapping'

const fields = defineFields({
  ...identifierFields,
  ...timestampField,
  ...customParametersField,
  ...insiderBatchingFields
})
export type UserRegisteredPayload = InferPayload<typeof fields>

export const userRegisteredEvent = insiderAction<UserRegisteredPayload>({
  title: 'User Registered',
  description: 'Record User Registered as Insider’s sign_up_confirmation event.',
  defaultSubscription: 'type = "track" and event = "User Registered"',
  fields,
  toUser: (payload) => ({
    identifiers: buildIdentifiers(payload),
    events: [
      insiderEvent('sign_up_confirmation', payload.timestamp, { custom: customParams(payload.custom_parameters) })
    ]
  })
})
