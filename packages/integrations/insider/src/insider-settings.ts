import type { GlobalSetting } from '@segment/actions-core'
import type { InsiderSettings } from './insider-api'

/** The same keys as Segment's own Insider destinations, so an existing configuration ports over unchanged. */
export const insiderSettingsFields: Record<keyof InsiderSettings, GlobalSetting> = {
  account_name: {
    label: 'Account Name',
    description:
      'Your Insider One account (partner) name, from InOne → Components → Integrations → External Integrations → Segment.',
    type: 'string',
    required: true
  },
  ucd_key: {
    label: 'Segment Integration Key',
    description: 'The Segment Integration Key from the same InOne page (sent as X-REQUEST-TOKEN).',
    type: 'password',
    required: true
  }
}
