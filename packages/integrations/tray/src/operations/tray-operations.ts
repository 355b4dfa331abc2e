import type { RequestClient } from '@segment/actions-core'
import { IntegrationError } from '@segment/actions-core'
import { parsePayload } from '@open-actions/core'
import {
  type BatchResult,
  createProfileClient,
  createSegmentClient,
  type ProfileClient,
  type ProfilePage,
  type SegmentClient,
  type SegmentMessage
} from '@open-actions/segment'
import { z } from 'zod'

/**
 * The operations of Tray's Segment connector (tray.io/documentation/connectors/service/segment): Alias, Batch,
 * Group, Identify, Track and Page on the Tracking API, and with a Profile API ("Personas") key, Get Profile
 * Events, External IDs, Properties and Traits. Each validates its input (a `PayloadValidationError` naming the
 * field) and runs on `@open-actions/segment`.
 */
export const operationCredentialsSchema = z.strictObject({
  write_key: z.string().min(1, 'is required: the write key of a Segment source'),
  /** The Profile API access token ("Personas key"); only the Get Profile operations need it. */
  profile_api_key: z.string().min(1).optional(),
  /** The Engage/Unify space the Profile API reads; only the Get Profile operations need it. */
  space_id: z.string().min(1).optional(),
  region: z.enum(['us', 'eu']).default('us')
})
export type OperationCredentials = z.input<typeof operationCredentialsSchema>

const jsonObject = z.record(z.string(), z.unknown())
const common = {
  user_id: z.string().min(1).optional(),
  anonymous_id: z.string().min(1).optional(),
  timestamp: z.string().optional(),
  message_id: z.string().min(1).optional(),
  context: jsonObject.optional(),
  integrations: jsonObject.optional()
}

function commonMessage(input: {
  user_id?: string
  anonymous_id?: string
  timestamp?: string
  message_id?: string
  context?: Record<string, unknown>
  integrations?: Record<string, unknown>
}) {
  return {
    ...(input.user_id ? { userId: input.user_id } : {}),
    ...(input.anonymous_id ? { anonymousId: input.anonymous_id } : {}),
    ...(input.timestamp ? { timestamp: input.timestamp } : {}),
    ...(input.message_id ? { messageId: input.message_id } : {}),
    ...(input.context ? { context: input.context } : {}),
    ...(input.integrations ? { integrations: input.integrations } : {})
  }
}

const profileInput = z.strictObject({
  identifier_type: z.string().min(1).default('user_id'),
  identifier_value: z.string().min(1),
  collection: z.enum(['users', 'accounts']).default('users'),
  limit: z.number().int().min(1).max(200).optional(),
  include: z.array(z.string()).optional(),
  next: z.string().optional()
})

interface Clients {
  readonly segment: SegmentClient
  readonly profiles: () => ProfileClient
}

interface Operation<Input extends z.ZodType, Output> {
  readonly title: string
  readonly description: string
  readonly input: Input
  readonly run: (clients: Clients, input: z.output<Input>) => Promise<Output>
}

function operation<Input extends z.ZodType, Output>(definition: Operation<Input, Output>): Operation<Input, Output> {
  return definition
}

const profileIdentifier = (input: z.output<typeof profileInput>) => ({
  type: input.identifier_type,
  value: input.identifier_value,
  collection: input.collection
})
const profileQuery = (input: z.output<typeof profileInput>) => ({
  ...(input.limit ? { limit: input.limit } : {}),
  ...(input.include ? { include: input.include } : {}),
  ...(input.next ? { next: input.next } : {})
})

export const operations = {
  alias: operation({
    title: 'Alias identities',
    description: 'Merge a previous identity into a user (Segment alias).',
    input: z.strictObject({ ...common, previous_id: z.string().min(1) }),
    run: ({ segment }, input): Promise<SegmentMessage> =>
      segment.send({ type: 'alias', ...commonMessage(input), previousId: input.previous_id })
  }),
  batch: operation({
    title: 'Batch',
    description: 'Send several Segment messages at once (split into requests of at most 500 KB).',
    input: z.strictObject({ batch: z.array(jsonObject).min(1) }),
    run: ({ segment }, input): Promise<BatchResult> => segment.batch(input.batch)
  }),
  group: operation({
    title: 'Group user',
    description: 'Associate a user with a group and set the group’s traits (Segment group).',
    input: z.strictObject({ ...common, group_id: z.string().min(1), traits: jsonObject.optional() }),
    run: ({ segment }, input): Promise<SegmentMessage> =>
      segment.send({
        type: 'group',
        ...commonMessage(input),
        groupId: input.group_id,
        ...(input.traits ? { traits: input.traits } : {})
      })
  }),
  identify: operation({
    title: 'Identify user',
    description: 'Tie a user to their traits (Segment identify).',
    input: z.strictObject({ ...common, traits: jsonObject.optional() }),
    run: ({ segment }, input): Promise<SegmentMessage> =>
      segment.send({ type: 'identify', ...commonMessage(input), ...(input.traits ? { traits: input.traits } : {}) })
  }),
  track: operation({
    title: 'Track event',
    description: 'Record an action a user took (Segment track).',
    input: z.strictObject({ ...common, event: z.string().min(1), properties: jsonObject.optional() }),
    run: ({ segment }, input): Promise<SegmentMessage> =>
      segment.send({
        type: 'track',
        ...commonMessage(input),
        event: input.event,
        ...(input.properties ? { properties: input.properties } : {})
      })
  }),
  page: operation({
    title: 'Track page',
    description: 'Record a page view (Segment page).',
    input: z.strictObject({
      ...common,
      name: z.string().optional(),
      category: z.string().optional(),
      properties: jsonObject.optional()
    }),
    run: ({ segment }, input): Promise<SegmentMessage> =>
      segment.send({
        type: 'page',
        ...commonMessage(input),
        ...(input.name ? { name: input.name } : {}),
        ...(input.category ? { category: input.category } : {}),
        ...(input.properties ? { properties: input.properties } : {})
      })
  }),
  getProfileEvents: operation({
    title: 'Get Profile Events',
    description: 'A profile’s recent events (Profile API; 14 days of history).',
    input: profileInput,
    run: ({ profiles }, input): Promise<ProfilePage> => profiles().events(profileIdentifier(input), profileQuery(input))
  }),
  getProfileExternalIds: operation({
    title: 'Get Profile External IDs',
    description: 'The identifiers merged into a profile (Profile API).',
    input: profileInput,
    run: ({ profiles }, input): Promise<ProfilePage> =>
      profiles().externalIds(profileIdentifier(input), profileQuery(input))
  }),
  getProfileProperties: operation({
    title: 'Get Profile Properties',
    description: 'A profile’s metadata: created, updated and last-seen times and sources (Profile API).',
    input: profileInput,
    run: ({ profiles }, input): Promise<ProfilePage> => profiles().metadata(profileIdentifier(input))
  }),
  getProfileTraits: operation({
    title: 'Get Profile Traits',
    description: 'A profile’s traits, computed traits and audiences (Profile API).',
    input: profileInput,
    run: ({ profiles }, input): Promise<ProfilePage> => profiles().traits(profileIdentifier(input), profileQuery(input))
  })
}

export type OperationName = keyof typeof operations
export type OperationInput<Name extends OperationName> = z.input<(typeof operations)[Name]['input']>
export type OperationOutput<Name extends OperationName> = Awaited<ReturnType<(typeof operations)[Name]['run']>>

/** Runs one connector operation: credentials and input validated first, nothing sent when either is wrong. */
export async function runOperation<Name extends OperationName>(
  name: Name,
  credentials: OperationCredentials,
  input: OperationInput<Name>,
  options: { readonly request?: RequestClient } = {}
): Promise<OperationOutput<Name>> {
  const definition = operations[name] as unknown as Operation<z.ZodType, OperationOutput<Name>>
  const auth = parsePayload(operationCredentialsSchema, credentials, 'Segment connector credentials')
  const parsed = parsePayload(definition.input, input, `${definition.title} input`)
  const request = options.request ? { request: options.request } : {}
  const clients: Clients = {
    segment: createSegmentClient({ writeKey: auth.write_key, region: auth.region, ...request }),
    profiles: () => {
      if (!auth.profile_api_key || !auth.space_id) {
        const missing = [!auth.profile_api_key ? 'profile_api_key' : undefined, !auth.space_id ? 'space_id' : undefined]
          .filter(Boolean)
          .join(' and ')
        throw new IntegrationError(
          `${definition.title} needs the Profile API credentials: ${missing} is missing from the connector authentication`,
          'MISSING_CREDENTIALS',
          400
        )
      }
      return createProfileClient({
        accessToken: auth.profile_api_key,
        spaceId: auth.space_id,
        region: auth.region,
        ...request
      })
    }
  }
  return definition.run(clients, parsed)
}
