import type { DestinationDefinition } from '@segment/actions-core'
import { sendVendorRequest, presetsFromActions } from '@open-actions/core'
import { sendAlias } from './actions/send-alias'
import { sendGroup } from './actions/send-group'
import { sendIdentify } from './actions/send-identify'
import { sendPage } from './actions/send-page'
import { sendScreen } from './actions/send-screen'
import { sendTrack } from './actions/send-track'
import { SEGMENT_CDN_URL } from './segment-regions'
import { segmentSettingsFields, type SegmentSettings } from './segment-settings'

const actions = { sendIdentify, sendTrack, sendPage, sendScreen, sendGroup, sendAlias }

export const destination: DestinationDefinition<SegmentSettings> = {
  name: 'Open Actions Segment',
  slug: 'open-actions-segment',
  mode: 'cloud',
  description: 'Forward events into a Segment source through the Tracking API (US or EU), one by one or in batches.',
  authentication: {
    scheme: 'custom',
    fields: segmentSettingsFields,
    // Segment's Tracking API answers 200 to everything, so it cannot check a key. The CDN's source settings
    // endpoint does: 200 for a write key that names a source, 404 otherwise. It writes nothing.
    testAuthentication: async (request, { settings }) => {
      await sendVendorRequest(
        request,
        `${SEGMENT_CDN_URL}/v1/projects/${encodeURIComponent(settings.write_key)}/settings`,
        { method: 'GET' },
        {
          vendor: 'Segment CDN',
          readMessage: () => 'no Segment source has this write key'
        }
      )
    }
  },
  presets: presetsFromActions(actions),
  actions
}
