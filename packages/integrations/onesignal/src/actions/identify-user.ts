import type { ActionDefinition } from '@segment/actions-core'
import { defineFields, eventFields, identityFields, type InferPayload } from '@open-actions/core'
import type { OneSignalSettings } from '../onesignal-api'
import { flattenField, NOT_ENGAGE_IDENTIFY } from '../onesignal-fields'
import { requireExternalId, sendTags } from '../onesignal-tag-action'
import { toTags } from '../onesignal-tags'

const fields = defineFields({
  user_id: {
    ...identityFields.user_id,
    label: 'External ID',
    description: 'The OneSignal External ID: the Segment userId.'
  },
  traits: { ...eventFields.traits, required: true },
  ...flattenField
})
export type IdentifyUserPayload = InferPayload<typeof fields>

export const identifyUser: ActionDefinition<OneSignalSettings, IdentifyUserPayload> = {
  title: 'Identify User',
  description: 'Store identify traits as data tags on the OneSignal user whose External ID is the Segment userId.',
  defaultSubscription: NOT_ENGAGE_IDENTIFY,
  fields,
  perform: (request, { settings, payload }) => {
    const externalId = requireExternalId(payload.user_id)
    return sendTags(
      request,
      settings,
      externalId,
      toTags(payload.traits, { flatten: payload.flatten_nested_values ?? false, what: 'trait' })
    )
  }
}
