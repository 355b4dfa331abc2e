import type { DestinationDefinition } from '@segment/actions-core'
import { presetsFromActions } from '@open-actions/core'
import { checkCredentials, insiderHeaders, type InsiderSettings } from '../insider-api'
import { insiderSettingsFields } from '../insider-settings'
import { syncAudience } from './sync-audience'

export const audiences: DestinationDefinition<InsiderSettings> = {
  name: 'Insider One Audiences (Actions)',
  slug: 'open-actions-insider-audiences',
  mode: 'cloud',
  description: 'Sync Segment Engage audiences and computed traits to Insider One user attributes.',
  authentication: {
    scheme: 'custom',
    fields: insiderSettingsFields,
    testAuthentication: (request) => checkCredentials(request)
  },
  // Segment's Insider Audiences destination does not send X-PLATFORM-NAME; neither do we.
  extendRequest: ({ settings }) => ({ headers: insiderHeaders(settings, false) }),
  presets: presetsFromActions({ syncAudience }),
  actions: { syncAudience }
}
