import type { ActionDefinition, JSONLikeObject, JSONValue, RequestClient } from '@segment/actions-core'
import {
  assertRecordDelivered,
  defineFields,
  parsePayload,
  deliverBatch,
  engageFields,
  type InferPayload,
  readEngageComputation,
  type RecordOutcome
} from '@open-actions/core'
import {
  type AttributeDeletion,
  deleteAttributeValues,
  identifiersSchema,
  INSIDER_LIMITS,
  type InsiderSettings,
  type InsiderUser,
  upsertUsers
} from '../insider-api'
import { validateUser } from '../insider-action'
import { identifierFields, insiderBatchingFields, timestampField } from '../insider-fields'
import { buildIdentifiers, insiderEvent, type Notes, toInsiderEventName } from '../insider-mapping'

/** The array attribute that holds the keys of the Engage audiences a user is in. */
export const AUDIENCE_ATTRIBUTE = 'segment_audience_name'
/** Computed traits become custom attributes with this prefix, as Segment's Insider Audiences destination does. */
export const COMPUTED_TRAIT_PREFIX = 'segment_io_'

const fields = defineFields({
  ...identifierFields,
  ...engageFields,
  ...timestampField,
  ...insiderBatchingFields
})
export type SyncAudiencePayload = InferPayload<typeof fields>

/** What one Engage event becomes: an upsert, the removal of one array value, or both. */
interface AudiencePlan {
  user?: InsiderUser
  deletion?: AttributeDeletion
}

export function planAudienceSync(payload: SyncAudiencePayload, notes: Notes = []): AudiencePlan {
  const computation = readEngageComputation({ ...payload, traits_or_properties: payload.traits_or_properties })
  const identifiers = buildIdentifiers(payload, notes)
  // A track carries the Engage event too (e.g. audience_entered), with the audience key as a custom parameter.
  const events =
    computation.via === 'track' && payload.event_name
      ? [
          insiderEvent(toInsiderEventName(payload.event_name), payload.timestamp, {
            custom: { segment_engage_name: computation.key }
          })
        ]
      : undefined

  if (computation.kind === 'audience') {
    if (computation.member) {
      // not_append: false appends the key to the array attribute instead of replacing the user's other audiences.
      return {
        user: validateUser({
          identifiers,
          attributes: { custom: { [AUDIENCE_ATTRIBUTE]: [computation.key] } },
          ...(events ? { events } : {}),
          not_append: false
        })
      }
    }
    return {
      deletion: {
        identifiers: parsePayload(identifiersSchema, identifiers, 'Insider identifiers'),
        custom: { partial: { [AUDIENCE_ATTRIBUTE]: [computation.key] } }
      },
      ...(events ? { user: validateUser({ identifiers, events }) } : {})
    }
  }
  const value: JSONValue = computation.value
  return {
    user: validateUser({
      identifiers,
      attributes: { custom: { [`${COMPUTED_TRAIT_PREFIX}${computation.key}`]: value } },
      ...(events ? { events } : {}),
      not_append: true
    })
  }
}

/** Removals first: removing a value twice is harmless, appending twice is not, so a retry repeats only the safe part. */
async function executePlans(request: RequestClient, plans: AudiencePlan[]): Promise<RecordOutcome[]> {
  const deletions = plans.flatMap((plan) => (plan.deletion ? [plan.deletion] : []))
  if (deletions.length > 0) await deleteAttributeValues(request, deletions)
  const withUsers = plans.filter((plan): plan is AudiencePlan & { user: InsiderUser } => plan.user !== undefined)
  const upserted =
    withUsers.length > 0
      ? await upsertUsers(
          request,
          withUsers.map((plan) => plan.user)
        )
      : []
  const byPlan = new Map<AudiencePlan, RecordOutcome | undefined>(
    withUsers.map((plan, index) => [plan, upserted[index]])
  )
  return plans.map((plan) => byPlan.get(plan) ?? { ok: true, sent: plan as unknown as JSONLikeObject })
}

export const syncAudience: ActionDefinition<InsiderSettings, SyncAudiencePayload> = {
  title: 'Sync Audiences and Computed Traits',
  description:
    'Keep Engage audiences and computed traits in Insider One: entering an audience adds its key to the segment_audience_name array attribute, exiting removes only that key, and computed traits become segment_io_<key> custom attributes.',
  // Only Engage computations: a plain identify or track is not an audience event.
  defaultSubscription:
    'context.personas.computation_class = "audience" or context.personas.computation_class = "computed_trait"',
  fields,
  perform: async (request, { payload }) => {
    const notes: Notes = []
    const [outcome] = await executePlans(request, [planAudienceSync(payload, notes)])
    const sent = assertRecordDelivered(outcome, 'Insider')
    return notes.length === 0 ? sent : ({ sent, left_out: notes } as unknown as JSONLikeObject)
  },
  performBatch: (request, { payload }) =>
    deliverBatch({
      payloads: payload,
      build: (item) => planAudienceSync(item),
      limits: {
        maxItems: payload[0]?.batch_size ?? INSIDER_LIMITS.maxUsers,
        maxBytes: INSIDER_LIMITS.maxBytes,
        envelopeBytes: '{"users":[],"platform":"segment"}'.length
      },
      send: (plans) => executePlans(request, plans)
    })
}
