import { compact } from '@open-actions/core'
import { defineFields, type InferPayload } from '@open-actions/core'
import { insiderAction } from '../insider-action'
import { identifierFields, insiderBatchingFields } from '../insider-fields'
import { buildIdentifiers } from '../insider-mapping'

const trait = (path: string) => ({ '@path': `$.traits.${path}` })

const fields = defineFields({
  ...identifierFields,
  age: { label: 'Age', description: 'The user’s age.', type: 'number', default: trait('age') },
  birthday: {
    label: 'Birthday',
    description: 'The user’s birthday (sent as RFC 3339 in UTC).',
    type: 'string',
    default: trait('birthday')
  },
  first_name: {
    label: 'First Name',
    description: 'Sent as Insider `name`.',
    type: 'string',
    default: trait('firstName')
  },
  last_name: {
    label: 'Last Name',
    description: 'Sent as Insider `surname`.',
    type: 'string',
    default: trait('lastName')
  },
  gender: { label: 'Gender', description: 'The user’s gender.', type: 'string', default: trait('gender') },
  city: { label: 'City', description: 'The user’s city.', type: 'string', default: trait('address.city') },
  country: {
    label: 'Country',
    description: 'ISO 3166-1 alpha-2 country code, e.g. TR.',
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
  toUser: (payload) => {
    const attributes = compact({
      email: payload.email,
      phone_number: payload.phone,
      name: payload.first_name,
      surname: payload.last_name,
      gender: payload.gender,
      age: payload.age,
      birthday: payload.birthday === undefined ? undefined : toBirthday(payload.birthday),
      language: payload.language?.replace(/-/g, '_'),
      city: payload.city,
      country: payload.country,
      email_optin: payload.email_optin,
      sms_optin: payload.sms_optin,
      whatsapp_optin: payload.whatsapp_optin,
      gdpr_optin: payload.gdpr_optin,
      custom:
        payload.custom_attributes && Object.keys(payload.custom_attributes).length > 0
          ? payload.custom_attributes
          : undefined
    })
    return { identifiers: buildIdentifiers(payload), attributes, not_append: !payload.append_arrays }
  }
})

/** A date-only birthday (`1990-04-12`) becomes midnight UTC; anything else must already be RFC 3339 in UTC. */
function toBirthday(value: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value
}
