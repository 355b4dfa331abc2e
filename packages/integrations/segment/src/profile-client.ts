import type { RequestClient } from '@segment/actions-core'
import { createRequestClient, IntegrationError } from '@segment/actions-core'
import { basicAuthorization, sendVendorRequest } from '@open-actions/core'
import { z } from 'zod'
import { profileRegions } from './segment-regions'

/** The profile that was asked for does not exist (404 `not_found`): not a credentials problem, not retryable. */
export class ProfileNotFoundError extends IntegrationError {
  constructor(message: string) {
    super(message, 'PROFILE_NOT_FOUND', 404)
  }
}

export interface ProfileClientOptions {
  /** A Profile API access token (Unify → Unify settings → API access). */
  readonly accessToken: string
  /** The Engage / Unify space id. */
  readonly spaceId: string
  readonly region?: string
  readonly request?: RequestClient
}

export type ProfileResource = 'traits' | 'external_ids' | 'events' | 'metadata' | 'links'

/** `user_id:abc`, `email:jane@example.com`, `anonymous_id:…`; accounts use `group_id:…`. */
export interface ProfileIdentifier {
  readonly type: string
  readonly value: string
  /** `users` (default) or `accounts`. */
  readonly collection?: 'users' | 'accounts'
}

export interface ProfileQuery {
  /** Page size: traits 1–200 (default 10), other resources 1–100. */
  readonly limit?: number
  readonly include?: readonly string[]
  readonly exclude?: readonly string[]
  /** For traits: only `audience` or `computed_trait` traits. */
  readonly class?: 'audience' | 'computed_trait'
  readonly verbose?: boolean
  readonly start?: string
  readonly end?: string
  readonly sort?: 'asc' | 'desc'
  readonly next?: string
}

export interface ProfilePage<Data = unknown> {
  readonly data: Data
  readonly cursor?: { readonly url?: string; readonly has_more: boolean; readonly next?: string }
}

/**
 * Only what we read. Traits come under `traits`, metadata under `metadata`, lists (external ids, events,
 * links) under `data`; every list carries a `cursor` (segment.com/docs/unify/profile-api#pagination).
 */
const pageSchema = z.object({
  traits: z.unknown().optional(),
  metadata: z.unknown().optional(),
  data: z.unknown().optional(),
  cursor: z.object({ url: z.string().optional(), has_more: z.boolean(), next: z.string().optional() }).optional()
})

const profileErrorSchema = z.object({ error: z.object({ code: z.string().optional(), message: z.string() }) })

/**
 * Segment's answer for a profile that does not exist, in a space that does:
 * `404 {"error":{"code":"not_found","message":"Profile was not found."}}`. Any other 404 (another code or message, or
 * none) is not read as a missing profile: it is an unknown space or path, which a caller must not take for success.
 */
function isMissingProfile(error: { code?: string | undefined; message: string } | undefined): boolean {
  return error?.code === 'not_found' && /\bprofile\b/i.test(error.message)
}

export interface ProfileClient {
  get<Data = unknown>(
    identifier: ProfileIdentifier,
    resource: ProfileResource,
    query?: ProfileQuery
  ): Promise<ProfilePage<Data>>
  /** Every page of a resource, following `cursor.next` until `has_more` is false. */
  pages<Data = unknown>(
    identifier: ProfileIdentifier,
    resource: ProfileResource,
    query?: ProfileQuery
  ): AsyncGenerator<ProfilePage<Data>>
  traits(identifier: ProfileIdentifier, query?: ProfileQuery): Promise<ProfilePage<Record<string, unknown>>>
  externalIds(identifier: ProfileIdentifier, query?: ProfileQuery): Promise<ProfilePage<unknown[]>>
  events(identifier: ProfileIdentifier, query?: ProfileQuery): Promise<ProfilePage<unknown[]>>
  metadata(identifier: ProfileIdentifier): Promise<ProfilePage<Record<string, unknown>>>
  links(identifier: ProfileIdentifier, query?: ProfileQuery): Promise<ProfilePage<unknown[]>>
}

function searchParamsOf(query: ProfileQuery): Record<string, string> {
  const params: Record<string, string> = {}
  if (query.limit !== undefined) params.limit = String(query.limit)
  if (query.include?.length) params.include = query.include.join(',')
  if (query.exclude?.length) params.exclude = query.exclude.join(',')
  if (query.class) params.class = query.class
  if (query.verbose !== undefined) params.verbose = String(query.verbose)
  if (query.start) params.start = query.start
  if (query.end) params.end = query.end
  if (query.sort) params.sort = query.sort
  if (query.next) params.next = query.next
  return params
}

/**
 * Segment's Profile API (segment.com/docs/unify/profile-api): Basic auth with the access token as user name and
 * an empty password, identifiers URL-encoded (`+` → `%2B`), 404 told apart from 401/403 and from 429.
 * Server-side only; at most 100 requests/s per space, so callers should back off on 429.
 */
export function createProfileClient(options: ProfileClientOptions): ProfileClient {
  const baseUrl = profileRegions.resolve(options.region)
  const request = options.request ?? createRequestClient({})
  const headers = { Authorization: basicAuthorization(options.accessToken) }

  const urlOf = (identifier: ProfileIdentifier, resource: ProfileResource) =>
    `${baseUrl}/v1/spaces/${encodeURIComponent(options.spaceId)}/collections/${identifier.collection ?? 'users'}/profiles/` +
    `${encodeURIComponent(identifier.type)}:${encodeURIComponent(identifier.value)}/${resource}`

  const get = async <Data>(
    identifier: ProfileIdentifier,
    resource: ProfileResource,
    query: ProfileQuery = {}
  ): Promise<ProfilePage<Data>> => {
    // The error body of this one call, to tell "no such profile" from any other 404 (an unknown space).
    let answered: z.infer<typeof profileErrorSchema>['error'] | undefined
    const errorContext = {
      vendor: 'Segment Profile API',
      readMessage: (body: unknown) => {
        const parsed = profileErrorSchema.safeParse(body)
        answered = parsed.success ? parsed.data.error : undefined
        return answered?.message
      }
    }
    try {
      const response = await sendVendorRequest(
        request,
        urlOf(identifier, resource),
        { method: 'GET', headers, searchParams: searchParamsOf(query) },
        errorContext
      )
      const page = pageSchema.parse(response.data)
      const data = page.traits ?? page.metadata ?? page.data
      return { data: data as Data, ...(page.cursor ? { cursor: page.cursor } : {}) }
    } catch (error) {
      if (error instanceof IntegrationError && error.status === 404 && isMissingProfile(answered)) {
        throw new ProfileNotFoundError(`${error.message} (${identifier.type}:${identifier.value})`)
      }
      throw error
    }
  }

  async function* pages<Data>(
    identifier: ProfileIdentifier,
    resource: ProfileResource,
    query: ProfileQuery = {}
  ): AsyncGenerator<ProfilePage<Data>> {
    let next = query.next
    for (;;) {
      const page = await get<Data>(identifier, resource, next === undefined ? query : { ...query, next })
      yield page
      if (!page.cursor?.has_more || !page.cursor.next) return
      next = page.cursor.next
    }
  }

  return {
    get,
    pages,
    traits: (identifier, query) => get(identifier, 'traits', query),
    externalIds: (identifier, query) => get(identifier, 'external_ids', query),
    events: (identifier, query) => get(identifier, 'events', query),
    metadata: (identifier) => get(identifier, 'metadata'),
    links: (identifier, query) => get(identifier, 'links', query)
  }
}
