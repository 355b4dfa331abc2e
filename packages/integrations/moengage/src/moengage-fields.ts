import { batchingFields, defineFields, eventFields, identityFields, type InferPayload } from '@open-actions/core'
import { MOENGAGE_LIMITS } from './moengage-api'

/** What both MoEngage actions send besides the data itself. */
export const commonFields = defineFields({
  user_id: identityFields.user_id,
  anonymous_id: identityFields.anonymous_id,
  timestamp: { ...eventFields.timestamp },
  app_version: {
    label: 'App Version',
    description: 'The app version (`context.app.version`).',
    type: 'string',
    default: { '@path': '$.context.app.version' }
  },
  os_name: {
    label: 'OS Name',
    description: 'The operating system (`context.os.name`).',
    type: 'string',
    default: { '@path': '$.context.os.name' }
  },
  library_version: {
    label: 'Library Version',
    description: 'The Segment library version (`context.library.version`).',
    type: 'string',
    default: { '@path': '$.context.library.version' }
  },
  update_existing_only: {
    label: 'Update Existing Users Only',
    description: 'Only update users MoEngage already knows; never create new ones.',
    type: 'boolean',
    default: false
  },
  ...batchingFields({ maxBatchSize: MOENGAGE_LIMITS.maxBulkElements, defaultBatchSize: 100 })
})

export type CommonPayload = InferPayload<typeof commonFields>

export function commonBody(payload: CommonPayload) {
  return {
    ...(payload.user_id ? { user_id: payload.user_id } : {}),
    ...(payload.anonymous_id ? { anonymous_id: payload.anonymous_id } : {}),
    context: {
      app: { version: payload.app_version },
      os: { name: payload.os_name },
      library: { version: payload.library_version }
    },
    timestamp: payload.timestamp,
    update_existing_only: payload.update_existing_only ?? false
  }
}
