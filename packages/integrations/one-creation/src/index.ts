export { createOneCreation } from './one-creation-client'
export type { OneCreationClient } from './one-creation-client'
export { connect } from './connect'
export type { ConnectField, ConnectOutcome } from './connect'
export { source } from './one-creation-source'
export { oneCreationSettingsSchema } from './one-creation-settings'
export type { OneCreationSettings as Settings, OneCreationSettingsInput } from './one-creation-settings'
export {
  EXPIRED_VALUE,
  FLOW_EVENTS,
  preferenceMessages,
  preferencePayloadSchema,
  traitKeyOf
} from './preference-messages'
export type { Flow, PreferenceInput, PreferencePayload } from './preference-messages'
/** This package's version, written into the build from its package.json (nothing is read at import). */
export const VERSION: string = '0.0.0-development'
