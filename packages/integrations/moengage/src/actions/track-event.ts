import { defineFields, eventFields, type InferPayload, parsePayload } from '@open-actions/core'
import { PROJECT_PROPERTY, trackBodySchema } from '../moengage-api'
import { moengageAction } from '../moengage-action'
import { commonBody, commonFields } from '../moengage-fields'

const fields = defineFields({
  ...commonFields,
  event_name: eventFields.event_name,
  properties: eventFields.properties,
  project: {
    label: 'Portfolio Project',
    description:
      'For MoEngage Portfolio workspaces: the project the event belongs to, sent as the property `moe_project_name`.',
    type: 'string'
  }
})
export type TrackEventPayload = InferPayload<typeof fields>

export const trackEvent = moengageAction<TrackEventPayload>({
  title: 'Track Event',
  description:
    'Record an event for a MoEngage user. Engage audiences and computed traits sent by track arrive as Audience Entered / Audience Exited / Trait Computed events.',
  defaultSubscription: 'type = "track"',
  fields,
  toBody: (payload) =>
    parsePayload(
      trackBodySchema,
      {
        type: 'track',
        ...commonBody(payload),
        event: payload.event_name,
        properties: {
          ...(payload.properties ?? {}),
          ...(payload.project ? { [PROJECT_PROPERTY]: payload.project } : {})
        }
      },
      'MoEngage track'
    )
})
