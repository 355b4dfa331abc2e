import { defineRegions } from '@open-actions/core'

/** Tracking API hosts (segment.com/docs/guides/regional-segment). EU workspaces sending to the US host lose data silently. */
export const trackingRegions = defineRegions({
  setting: 'region',
  label: 'Region',
  description:
    'The region of your Segment workspace. EU workspaces must use EU, or Segment drops the data without an error.',
  regions: {
    us: { url: 'https://api.segment.io/v1', label: 'United States (api.segment.io)' },
    eu: { url: 'https://events.eu1.segmentapis.com/v1', label: 'European Union (events.eu1.segmentapis.com)' }
  },
  defaultRegion: 'us'
})

/** Profile API hosts (segment.com/docs/unify/profile-api). */
export const profileRegions = defineRegions({
  setting: 'region',
  label: 'Region',
  description: 'The region of your Segment workspace.',
  regions: {
    us: { url: 'https://profiles.segment.com', label: 'United States (profiles.segment.com)' },
    eu: { url: 'https://profiles.euw1.segment.com', label: 'European Union (profiles.euw1.segment.com)' }
  },
  defaultRegion: 'us'
})

export type SegmentRegion = (typeof trackingRegions.keys)[number]

/** Segment's CDN serves a source's settings by write key; a 200 proves the key names a real source. */
export const SEGMENT_CDN_URL = 'https://cdn.segment.com'
