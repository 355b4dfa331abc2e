import { defineFields, type InferPayload } from '@open-actions/core'
import { insiderAction } from '../insider-action'
import { eitherCase, identifierFields, insiderBatchingFields } from '../insider-fields'
import { buildAttributes, buildIdentifiers } from '../insider-mapping'

const trait = (path: string) => ({ '@path': `$.traits.${path}` })

const fields = defineFields({
  ...identifierFields,
  age: { label: 'Age', description: 'The user’s age.', type: 'number', default: trait('age') },
  birthday: {
    label: 'Birthday',
    description:
      'The user’s birthday: an ISO 8601 date or date-time, sent as RFC 3339 in UTC (an offset is converted; anything else is left out, and the result says so).',
    type: 'string',
    default: trait('birthday')
  },
  first_name: {
    label: 'First Name',
    description: 'Sent as Insider `name` (the `firstName` trait, else `first_name`).',
    type: 'string',
    default: eitherCase('$.traits', 'firstName', 'first_name')
  },
  last_name: {
    label: 'Last Name',
    description: 'Sent as Insider `surname` (the `lastName` trait, else `last_name`).',
    type: 'string',
    default: eitherCase('$.traits', 'lastName', 'last_name')
  },
  gender: { label: 'Gender', description: 'The user’s gender.', type: 'string', default: trait('gender') },
  city: { label: 'City', description: 'The user’s city.', type: 'string', default: trait('address.city') },
  country: {
    label: 'Country',
    description: 'An ISO 3166-1 alpha-2 code (e.g. TR) or a country name (e.g. Türkiye), sent as the code.',
    type: 'string',
    default: trait('address.country')
  },
  language: {
    label: 'Language',
    description: 'e.g. en-US, sent as en_US.',
    type: 'string',
    default: { '@path': '$.context.locale' }
  },
  email_optin: {
    label: 'Email Opt-in',
    description: 'Whether the user agreed to receive email.',
    type: 'boolean',
    default: trait('emailOptin')
  },
  sms_optin: {
    label: 'SMS Opt-in',
    description: 'Whether the user agreed to receive SMS.',
    type: 'boolean',
    default: trait('smsOptin')
  },
  whatsapp_optin: {
    label: 'WhatsApp Opt-in',
    description: 'Whether the user agreed to receive WhatsApp messages.',
    type: 'boolean',
    default: trait('whatsappOptin')
  },
  gdpr_optin: {
    label: 'GDPR Opt-in',
    description: 'false blocks every Insider message and campaign for the user; true or empty allows them.',
    type: 'boolean',
    default: trait('gdprOptin')
  },
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
    attributes: buildAttributes({ ...payload, custom: payload.custom_attributes }, notes),
    not_append: !payload.append_arrays
  })
})
