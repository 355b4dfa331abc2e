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
    description: 'Event properties. Those without an Insider standard parameter are sent as custom event parameters.',
    type: 'object',
    default: { '@path': '$.properties' }
  }
})

export const insiderBatchingFields = batchingFields({
  maxBatchSize: INSIDER_LIMITS.maxUsers,
  defaultBatchSize: INSIDER_LIMITS.maxUsers
})
