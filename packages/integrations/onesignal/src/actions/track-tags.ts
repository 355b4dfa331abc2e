import type { ActionDefinition } from '@segment/actions-core'
import { defineFields, eventFields, identityFields, type InferPayload } from '@open-actions/core'
import type { OneSignalSettings } from '../onesignal-api'
import { flattenField, NOT_ENGAGE_TRACK } from '../onesignal-fields'
import { requireExternalId, sendTags } from '../onesignal-tag-action'
import { toTags } from '../onesignal-tags'

const fields = defineFields({
  user_id: {
    ...identityFields.user_id,
    label: 'External ID',
    description: 'The OneSignal External ID: the Segment userId.'
  },
  event_name: { ...eventFields.event_name, required: false },
  properties: eventFields.properties,
  keep_event_name: {
    label: 'Keep Event Name',
    description:
      'OneSignal drops the event name and stores only the properties. On: also store it, as the tag `event_name`.',
    type: 'boolean',
    default: false
  },
  ...flattenField
})
export type TrackTagsPayload = InferPayload<typeof fields>

export const trackTags: ActionDefinition<OneSignalSettings, TrackTagsPayload> = {
  title: 'Track Properties as Tags',
  description:
    'Store track properties as data tags on the OneSignal user; the event name is dropped unless you keep it.',
  defaultSubscription: NOT_ENGAGE_TRACK,
  fields,
  perform: (request, { settings, payload }) => {
    const externalId = requireExternalId(payload.user_id)
    const values = {
      ...(payload.properties ?? {}),
      ...(payload.keep_event_name && payload.event_name ? { event_name: payload.event_name } : {})
    }
    return sendTags(
      request,
      settings,
      externalId,
      toTags(values, { flatten: payload.flatten_nested_values ?? false, what: 'property' })
    )
  }
}
