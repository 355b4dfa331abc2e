import type { DestinationDefinition, Preset } from '@segment/actions-core'
import { defaultValues } from '@segment/actions-core'
import { basicAuthorization } from '@open-actions/core'
import { identifyUser } from './actions/identify-user'
import { trackEvent } from './actions/track-event'
import { checkCredentials, moengageRegions, type MoEngageSettings } from './moengage-api'

const ENGAGE_CLASSES =
  'context.personas.computation_class = "audience" or context.personas.computation_class = "computed_trait"'
const ENGAGE_EVENTS = 'event = "Audience Entered" or event = "Audience Exited" or event = "Trait Computed"'

/*
 * Engage lets a user send each audience or computed trait by identify, by track, or both (the MoEngage seed).
 * The Engage presets carry exactly those events and the general presets leave them out, so every event
 * matches one preset and a user can keep either Engage method or both.
 */
const presets: Preset[] = [
  {
    name: 'Identify User',
    subscribe:
      'type = "identify" and context.personas.computation_class != "audience" and context.personas.computation_class != "computed_trait"',
    partnerAction: 'identifyUser',
    mapping: defaultValues(identifyUser.fields),
    type: 'automatic'
  },
  {
    name: 'Track Event',
    subscribe:
      'type = "track" and event != "Audience Entered" and event != "Audience Exited" and event != "Trait Computed"',
    partnerAction: 'trackEvent',
    mapping: defaultValues(trackEvent.fields),
    type: 'automatic'
  },
  {
    name: 'Engage Audiences and Computed Traits by Identify',
    subscribe: `type = "identify" and (${ENGAGE_CLASSES})`,
    partnerAction: 'identifyUser',
    mapping: defaultValues(identifyUser.fields),
    type: 'automatic'
  },
  {
    name: 'Engage Audiences and Computed Traits by Track',
    subscribe: `type = "track" and (${ENGAGE_EVENTS})`,
    partnerAction: 'trackEvent',
    mapping: defaultValues(trackEvent.fields),
    type: 'automatic'
  }
]

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
  presets,
  actions: { identifyUser, trackEvent }
}
