import { defineFields, type InferPayload } from '@open-actions/core'
import { insiderAction } from '../insider-action'
import { attributeFields, identifierFields, insiderBatchingFields } from '../insider-fields'
import { buildAttributes, buildIdentifiers } from '../insider-mapping'

const fields = defineFields({
  ...identifierFields,
  ...attributeFields,
  custom_attributes: {
    label: 'Custom Attributes',
    description: 'Your other traits, sent as Insider custom attributes. Map the ones you need.',
    type: 'object',
    defaultObjectUI: 'keyvalue'
  },
  append_arrays: {
    label: 'Append Array Attributes',
    description: 'Append array values to what the user has; off (the default) overwrites them.',
    type: 'boolean',
    default: false
  },
  ...insiderBatchingFields
})
export type UpdateUserProfilePayload = InferPayload<typeof fields>

export const updateUserProfile = insiderAction<UpdateUserProfilePayload>({
  title: 'Create or Update a User Profile',
  description: 'Create or update a user and their attributes in Insider One.',
  defaultSubscription: 'type = "identify"',
  fields,
  toUser: (payload, notes) => ({
    identifiers: buildIdentifiers(payload, notes),
    attributes: buildAttributes(payload, notes, payload.custom_attributes),
    not_append: !payload.append_arrays
  })
})
