import type { DestinationDefinition } from '@segment/actions-core'
import { bearerAuthorization, presetsFromActions } from '@open-actions/core'
import { identifyUser } from './actions/identify-user'
import { trackEvent } from './actions/track-event'
import { checkWorkspace, exampleRegions, type ExampleSettings } from './example-api'

export const destination: DestinationDefinition<ExampleSettings> = {
  name: 'Example Vendor (Actions)',
  slug: 'open-actions-example',
  mode: 'cloud',
  description: 'Send users and events to Example Vendor, a fictional analytics API. The template for new integrations.',
  authentication: {
    scheme: 'custom',
    fields: {
      workspace_id: {
        label: 'Workspace ID',
        description: 'Your Example Vendor workspace id, from Settings → Workspace.',
        type: 'string',
        required: true
      },
      api_key: {
        label: 'API Key',
        description: 'An Example Vendor API key with write access, from Settings → API keys.',
        type: 'password',
        required: true
      },
      region: exampleRegions.field
    },
    // The cheapest call that proves both the key and the workspace: reading the workspace.
    testAuthentication: async (request, { settings }) => {
      await checkWorkspace(request, settings)
    }
  },
  extendRequest: ({ settings }) => ({
    headers: { Authorization: bearerAuthorization(settings.api_key), 'Content-Type': 'application/json' }
  }),
  presets: presetsFromActions({ identifyUser, trackEvent }),
  actions: { identifyUser, trackEvent }
}
