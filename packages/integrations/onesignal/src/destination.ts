import type { DestinationDefinition } from '@segment/actions-core'
import { keyAuthorization, presetsFromActions } from '@open-actions/core'
import { identifyUser } from './actions/identify-user'
import { sendCustomEvent } from './actions/send-custom-event'
import { syncEngage } from './actions/sync-engage'
import { trackTags } from './actions/track-tags'
import { checkCredentials, type OneSignalSettings } from './onesignal-api'

const actions = { identifyUser, trackTags, sendCustomEvent, syncEngage }

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
  // One preset per action that has a default subscription; Send Custom Event (beta at OneSignal) has none, so no preset.
  presets: presetsFromActions(actions),
  actions
}
