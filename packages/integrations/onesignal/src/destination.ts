import type { DestinationDefinition, Preset } from '@segment/actions-core'
import { defaultValues } from '@segment/actions-core'
import { keyAuthorization } from '@open-actions/core'
import { identifyUser } from './actions/identify-user'
import { sendCustomEvent } from './actions/send-custom-event'
import { syncEngage } from './actions/sync-engage'
import { trackTags } from './actions/track-tags'
import { checkCredentials, type OneSignalSettings } from './onesignal-api'

const NOT_ENGAGE_IDENTIFY =
  'context.personas.computation_class != "audience" and context.personas.computation_class != "computed_trait"'
const NOT_ENGAGE_TRACK = 'event != "Audience Entered" and event != "Audience Exited" and event != "Trait Computed"'

/*
 * Identify and track carry tags; Engage computations have their own preset (segments, membership tags), so
 * each event matches exactly one. Custom events are in beta at OneSignal, so Send Custom Event has no preset:
 * add it once OneSignal has enabled custom events for the app (both tags and events are then sent, as the seed says).
 */
const presets: Preset[] = [
  {
    name: 'Identify User',
    subscribe: `type = "identify" and ${NOT_ENGAGE_IDENTIFY}`,
    partnerAction: 'identifyUser',
    mapping: defaultValues(identifyUser.fields),
    type: 'automatic'
  },
  {
    name: 'Track Properties as Tags',
    subscribe: `type = "track" and ${NOT_ENGAGE_TRACK}`,
    partnerAction: 'trackTags',
    mapping: defaultValues(trackTags.fields),
    type: 'automatic'
  },
  {
    name: 'Sync Engage Audiences and Computed Traits',
    subscribe: syncEngage.defaultSubscription ?? '',
    partnerAction: 'syncEngage',
    mapping: defaultValues(syncEngage.fields),
    type: 'automatic'
  }
]

export const destination: DestinationDefinition<OneSignalSettings> = {
  name: 'OneSignal (Actions)',
  slug: 'open-actions-onesignal',
  mode: 'cloud',
  description:
    'Send Segment traits and properties to OneSignal as data tags, tracks as custom events, and Engage audiences as OneSignal segments.',
  authentication: {
    scheme: 'custom',
    fields: {
      app_id: {
        label: 'App ID',
        description: 'OneSignal dashboard → your app → Settings → Keys & IDs → App ID.',
        type: 'string',
        required: true,
        format: 'uuid'
      },
      api_key: {
        label: 'API Key',
        description: 'OneSignal dashboard → Settings → Keys & IDs → an App API key.',
        type: 'password',
        required: true
      }
    },
    // Listing one segment is a read that needs the App API key for that App ID.
    testAuthentication: (request, { settings }) => checkCredentials(request, settings)
  },
  extendRequest: ({ settings }) => ({
    headers: { Authorization: keyAuthorization(settings.api_key), 'Content-Type': 'application/json' }
  }),
  presets,
  actions: { identifyUser, trackTags, sendCustomEvent, syncEngage }
}
