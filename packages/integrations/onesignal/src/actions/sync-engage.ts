import type { ActionDefinition, RequestClient, StateContext } from '@segment/actions-core'
import {
  defineFields,
  engageFields,
  identityFields,
  type InferPayload,
  readEngageComputation
} from '@open-actions/core'
import { createAudienceSegment, findSegment, type OneSignalSettings } from '../onesignal-api'
import { flattenField } from '../onesignal-fields'
import { requireExternalId, sendTags } from '../onesignal-tag-action'
import { toTags } from '../onesignal-tags'

const fields = defineFields({
  user_id: {
    ...identityFields.user_id,
    label: 'External ID',
    description: 'The OneSignal External ID: the Segment userId.'
  },
  ...engageFields,
  ...flattenField
})
export type SyncEngagePayload = InferPayload<typeof fields>

/** The state key that says, for this event's retries, that its audience segment exists already. */
const segmentStateKey = (audienceKey: string) => `onesignal-segment:${audienceKey}`

/**
 * Idempotent: ask OneSignal before creating, and treat a concurrent creation (409) as success. Nothing is kept in the
 * process (a module-level cache would be shared by every tenant of a runtime and forgotten on restart); within one
 * event's retries, the runtime's `stateContext` remembers that the segment exists.
 */
async function ensureAudienceSegment(
  request: RequestClient,
  settings: OneSignalSettings,
  audienceKey: string,
  stateContext: StateContext | undefined
): Promise<void> {
  const key = segmentStateKey(audienceKey)
  if (stateContext?.getRequestContext(key) === 'exists') return
  if ((await findSegment(request, settings, audienceKey)) === undefined)
    await createAudienceSegment(request, settings, audienceKey, audienceKey)
  stateContext?.setResponseContext(key, 'exists', { hour: 24 })
}

export const syncEngage: ActionDefinition<OneSignalSettings, SyncEngagePayload> = {
  title: 'Sync Engage Audiences and Computed Traits',
  description:
    'An Engage audience becomes a OneSignal segment named after it (created once) whose members carry the tag <audience_key> = "true"; exiting removes the tag. Computed traits become tags, whichever call carries them.',
  defaultSubscription:
    'context.personas.computation_class = "audience" or context.personas.computation_class = "computed_trait"',
  fields,
  perform: async (request, { settings, payload, stateContext }) => {
    const computation = readEngageComputation(payload)
    const externalId = requireExternalId(payload.user_id)
    const flatten = payload.flatten_nested_values ?? false
    if (computation.kind === 'audience') {
      if (computation.member) await ensureAudienceSegment(request, settings, computation.key, stateContext)
      // Sent by identify, the other traits become tags too (the seed: "add data tags … on all the matching user records").
      const { [computation.key]: _membership, audience_key: _audienceKey, ...others } = payload.traits_or_properties
      const extra =
        computation.via === 'identify' ? toTags(others, { flatten, what: 'trait' }) : { tags: {}, leftOut: [] }
      return sendTags(request, settings, externalId, {
        tags: { ...extra.tags, [computation.key]: computation.member ? 'true' : '' },
        leftOut: extra.leftOut
      })
    }
    return sendTags(
      request,
      settings,
      externalId,
      toTags({ [computation.key]: computation.value }, { flatten, what: 'trait' })
    )
  }
}
