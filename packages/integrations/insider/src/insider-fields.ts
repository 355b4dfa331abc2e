import { batchingFields, defineFields, identityFields } from '@open-actions/core'
import { INSIDER_LIMITS } from './insider-api'

/** Identification, per the Insider seed's table: userId → uuid, anonymousId → custom segment_anonymous_id, … */
export const identifierFields = defineFields({
  uuid: { ...identityFields.user_id, label: 'UUID', description: 'Insider’s `uuid` identifier: the Segment userId.' },
  segment_anonymous_id: {
    ...identityFields.anonymous_id,
    label: 'Segment Anonymous ID',
    description: 'Sent as the custom identifier `segment_anonymous_id`.'
  },
  email_as_identifier: {
    label: 'Treat Email as Identifier',
    description: 'Also identify the user by their email.',
    type: 'boolean',
    default: true
  },
  phone_number_as_identifier: {
    label: 'Treat Phone Number as Identifier',
    description: 'Also identify the user by their phone number (E.164).',
    type: 'boolean',
    default: true
  },
  email: identityFields.email,
  phone: identityFields.phone,
  custom_identifiers: {
    label: 'Custom Identifiers',
    description: 'Your own identifiers, as set on Insider’s Identity Resolution Management page (e.g. `crm_id`).',
    type: 'object',
    defaultObjectUI: 'keyvalue'
  }
})

export const timestampField = defineFields({
  timestamp: {
    label: 'Timestamp',
    description: 'When the event happened.',
    type: 'datetime',
    required: true,
    default: { '@path': '$.timestamp' }
  }
})

export const customParametersField = defineFields({
  custom_parameters: {
    label: 'Event Parameters',
    description:
      'Event properties. Each is sent: as its Insider standard parameter where it has one (e.g. `url`, `name`, `price`, `quantity`, `currency`), otherwise as a custom event parameter under its own name.',
    type: 'object',
    default: { '@path': '$.properties' }
  }
})

/** `firstName`, else `first_name` (the Segment spec's form, else the snake_case one upstream reads). */
export const eitherCase = (path: string, camel: string, snake: string) => ({
  '@if': {
    exists: { '@path': `${path}.${camel}` },
    then: { '@path': `${path}.${camel}` },
    else: { '@path': `${path}.${snake}` }
  }
})

const trait = (path: string) => ({ '@path': `$.traits.${path}` })

/** Insider's predefined user attributes (the seed's table), from an identify's traits. */
export const attributeFields = defineFields({
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
  }
})

/** The page and device an event came from: Insider's `url`, `referrer` and `user_agent` parameters, as upstream. */
export const contextFields = defineFields({
  page_url: {
    label: 'Page URL',
    description: 'Sent as the `url` parameter when the event’s properties have no `url`.',
    type: 'string',
    default: { '@path': '$.context.page.url' }
  },
  referrer: {
    label: 'Referrer',
    description: 'Sent as the `referrer` parameter when the event’s properties have none.',
    type: 'string',
    default: { '@path': '$.context.page.referrer' }
  },
  user_agent: {
    label: 'User Agent',
    description: 'Sent as the `user_agent` parameter.',
    type: 'string',
    default: { '@path': '$.context.userAgent' }
  }
})

const contextTrait = (name: string) => ({ '@path': `$.context.traits.${name}` })
/** Who the user is, on every event: the user's traits as Insider attributes (upstream sends them with each track). */
export const userAttributesField = defineFields({
  user_attributes: {
    label: 'User Attributes',
    description:
      'The user’s attributes sent with the event, from the traits the event carries (`context.traits`). A value Insider cannot take (a phone without its country code, say) is left out of the request, and the result says so.',
    type: 'object',
    properties: {
      first_name: { label: 'First Name', description: 'Sent as `name`.', type: 'string' },
      last_name: { label: 'Last Name', description: 'Sent as `surname`.', type: 'string' },
      gender: { label: 'Gender', description: 'The user’s gender.', type: 'string' },
      age: { label: 'Age', description: 'The user’s age.', type: 'number' },
      birthday: { label: 'Birthday', description: 'Sent as RFC 3339 in UTC.', type: 'string' },
      city: { label: 'City', description: 'The user’s city.', type: 'string' },
      country: {
        label: 'Country',
        description: 'An ISO code or a country name; sent as the ISO 3166-1 alpha-2 code.',
        type: 'string'
      },
      language: { label: 'Language', description: 'e.g. en-US, sent as en_US.', type: 'string' }
    },
    default: {
      first_name: eitherCase('$.context.traits', 'firstName', 'first_name'),
      last_name: eitherCase('$.context.traits', 'lastName', 'last_name'),
      gender: contextTrait('gender'),
      age: contextTrait('age'),
      birthday: contextTrait('birthday'),
      city: contextTrait('address.city'),
      country: contextTrait('address.country'),
      language: { '@path': '$.context.locale' }
    }
  }
})

export const insiderBatchingFields = batchingFields({
  maxBatchSize: INSIDER_LIMITS.maxUsers,
  defaultBatchSize: INSIDER_LIMITS.maxUsers
})
