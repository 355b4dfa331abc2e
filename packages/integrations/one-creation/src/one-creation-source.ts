import { defineSource } from '@open-actions/core'
import { oneCreationSettingsSchema, SECRET_SETTINGS } from './one-creation-settings'
import { preferenceMessages, preferencePayloadSchema } from './preference-messages'

/** The inbound webhook the runtime serves at `POST /v1/sources/one-creation`. */
export const source = defineSource({
  slug: 'one-creation',
  name: 'One Creation',
  description: 'One Creation preference data (submitted, extended and expired) into Segment as identify + track.',
  settingsSchema: oneCreationSettingsSchema,
  secretSettings: SECRET_SETTINGS,
  payloadSchema: preferencePayloadSchema,
  toMessages: (payload) => preferenceMessages(payload),
  delivery: (settings) => ({ writeKey: settings.write_key, region: settings.region })
})
