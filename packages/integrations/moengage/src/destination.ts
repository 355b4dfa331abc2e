import type { DestinationDefinition } from '@segment/actions-core'
import { basicAuthorization, presetsFromActions } from '@open-actions/core'
import { identifyUser } from './actions/identify-user'
import { trackEvent } from './actions/track-event'
import { checkCredentials, moengageRegions, type MoEngageSettings } from './moengage-api'

const actions = { identifyUser, trackEvent }

export const destination: DestinationDefinition<MoEngageSettings> = {
  name: 'MoEngage (Actions)',
  slug: 'open-actions-moengage',
  mode: 'cloud',
  description: 'Send Segment identify and track calls, and Engage audiences and computed traits, to MoEngage.',
  authentication: {
    scheme: 'custom',
    fields: {
      api_id: {
        label: 'Workspace ID (App ID)',
        description: 'Settings → Account → APIs → Workspace ID.',
        type: 'string',
        required: true
      },
      api_key: {
        label: 'Data API Key',
        description:
          'Settings → Account → APIs → Data API key. Generating a new key breaks integrations using the old one.',
        type: 'password',
        required: true
      },
      region: moengageRegions.field
    },
    testAuthentication: async (request, { settings }) => {
      await checkCredentials(request, settings)
    }
  },
  // MOE-APPKEY must equal the Basic user name; MoEngage's test-connection and import endpoints require it.
  extendRequest: ({ settings }) => ({
    headers: {
      Authorization: basicAuthorization(settings.api_id, settings.api_key),
      'MOE-APPKEY': settings.api_id,
      'Content-Type': 'application/json'
    }
  }),
  // Engage sends audiences and computed traits by identify, by track, or both (the MoEngage seed): identify calls go to
  // Identify User and tracks (Audience Entered, Trait Computed …) to Track Event, so each event matches one preset.
  presets: presetsFromActions(actions),
  actions
}
