import type { GlobalSetting } from '@segment/actions-core'
import { trackingRegions } from './segment-regions'

export interface SegmentSettings {
  write_key: string
  region: string
}

export const segmentSettingsFields: Record<keyof SegmentSettings, GlobalSetting> = {
  write_key: {
    label: 'Write Key',
    description:
      'The write key of the Segment source to send to (Connections → Sources → your source → Settings → API Keys).',
    type: 'password',
    required: true
  },
  region: trackingRegions.field
}
