import { defineFields, eventFields, type InferPayload, parsePayload } from '@open-actions/core'
import { eventElementSchema, trackBodySchema } from '../moengage-api'
import { moengageAction } from '../moengage-action'
import { commonBody, commonFields } from '../moengage-fields'

const fields = defineFields({ ...commonFields, event_name: eventFields.event_name, properties: eventFields.properties })
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
      { type: 'track', ...commonBody(payload), event: payload.event_name, properties: payload.properties ?? {} },
      'MoEngage track'
    ),
  toElement: (body) =>
    parsePayload(
      eventElementSchema,
      {
        type: 'event',
        customer_id: body.user_id,
        actions: [
          {
            action: body.type === 'track' ? body.event : '',
            attributes: body.type === 'track' ? body.properties : {},
            ...(body.context.os.name ? { platform: body.context.os.name } : {}),
            ...(body.context.app.version ? { app_version: body.context.app.version } : {}),
            user_time: body.timestamp
          }
        ],
        update_existing_only: body.update_existing_only
      },
      'MoEngage event'
    )
})
