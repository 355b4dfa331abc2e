import type { ActionDefinition } from '@segment/actions-core'
import {
  batchingFields,
  deliverBatch,
  defineFields,
  eventFields,
  identityFields,
  type InferPayload,
  parsePayload
} from '@open-actions/core'
import { EXAMPLE_LIMITS, type ExampleSettings, type ExampleUser, exampleUserSchema, upsertUsers } from '../example-api'

const fields = defineFields({
  user_id: identityFields.user_id,
  anonymous_id: identityFields.anonymous_id,
  email: identityFields.email,
  traits: { ...eventFields.traits, required: true },
  ...batchingFields({ maxBatchSize: EXAMPLE_LIMITS.maxItems })
})
export type IdentifyUserPayload = InferPayload<typeof fields>

function toExampleUser(payload: IdentifyUserPayload): ExampleUser {
  return parsePayload(
    exampleUserSchema,
    { id: payload.user_id, anonymous_id: payload.anonymous_id, email: payload.email, traits: payload.traits },
    'Example Vendor user'
  )
}

export const identifyUser: ActionDefinition<ExampleSettings, IdentifyUserPayload> = {
  title: 'Identify User',
  description: 'Create or update a user and their traits in Example Vendor.',
  defaultSubscription: 'type = "identify"',
  fields,
  perform: (request, { settings, payload }) => upsertUsers(request, settings, [toExampleUser(payload)]),
  performBatch: (request, { settings, payload }) =>
    deliverBatch({
      payloads: payload,
      build: toExampleUser,
      limits: {
        maxItems: payload[0]?.batch_size ?? EXAMPLE_LIMITS.maxItems,
        maxBytes: EXAMPLE_LIMITS.maxBytes,
        envelopeBytes: '{"users":[]}'.length
      },
      send: async (users) => {
        await upsertUsers(request, settings, users)
        return undefined
      }
    })
}
