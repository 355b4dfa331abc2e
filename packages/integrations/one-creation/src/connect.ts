import type { RequestClient } from '@segment/actions-core'
import { createRequestClient } from '@segment/actions-core'
import { errorDetails, sendVendorRequest, toPayloadValidationError } from '@open-actions/core'
import { createProfileClient, ProfileNotFoundError } from '@open-actions/segment'
import { oneCreationSettingsSchema, type OneCreationSettings } from './one-creation-settings'

export type ConnectField = 'write_key' | 'access_token' | 'space_id' | 'region'

export type ConnectOutcome =
  | { readonly connected: true; readonly message: 'You are connected to Segment' }
  | { readonly connected: false; readonly field?: ConnectField; readonly reason: string; readonly retryable?: boolean }

/** A user id no profile has: the Profile API answers 404 "not found" for it when the token and space are right. */
const PROBE_USER_ID = 'one-creation-connection-check'

/** The vendor's own status: an authentication error is 401 for runtimes but keeps whether Segment said 401 or 403. */
function statusOf(error: unknown): number | undefined {
  const { status, httpStatus } = errorDetails(error)
  return httpStatus ?? status
}

function messageOf(error: unknown): string {
  return errorDetails(error).message
}

async function probeProfileApi(
  settings: OneCreationSettings,
  region: 'us' | 'eu',
  request: RequestClient
): Promise<'ok' | number> {
  try {
    await createProfileClient({
      accessToken: settings.access_token,
      spaceId: settings.space_id,
      region,
      request
    }).traits({ type: 'user_id', value: PROBE_USER_ID }, { limit: 1 })
    return 'ok'
  } catch (error) {
    if (error instanceof ProfileNotFoundError) return 'ok'
    const status = statusOf(error)
    if (status === undefined) throw error
    return status
  }
}

/**
 * Checks all four settings against Segment and says either "You are connected to Segment" or which field is wrong
 * and why (One Creation's "Connect" step):
 * - the write key by reading its source's settings from Segment's CDN (harmless; 404 = no such source);
 * - the access token and space through the Profile API: a 404 "profile not found" for a made-up user proves both;
 *   401 = the token is wrong; 403 = the token is not valid for this space;
 * - the region: when the configured region refuses the token, the other region is tried; if it accepts, the
 *   workspace is in the other region.
 */
export async function connect(
  rawSettings: unknown,
  options: { readonly request?: RequestClient } = {}
): Promise<ConnectOutcome> {
  const parsed = oneCreationSettingsSchema.safeParse(rawSettings)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const field = issue?.path[0]
    return {
      connected: false,
      ...(typeof field === 'string' ? { field: field as ConnectField } : {}),
      reason: toPayloadValidationError(parsed.error).message
    }
  }
  const settings = parsed.data
  const request = options.request ?? createRequestClient({})

  try {
    await sendVendorRequest(
      request,
      `https://cdn.segment.com/v1/projects/${encodeURIComponent(settings.write_key)}/settings`,
      { method: 'GET' },
      { vendor: 'Segment' }
    )
  } catch (error) {
    const status = statusOf(error)
    if (status === 404 || status === 401 || status === 403)
      return { connected: false, field: 'write_key', reason: 'No Segment source has this write key' }
    return {
      connected: false,
      reason: `Segment could not be reached to check the write key: ${messageOf(error)}`,
      retryable: true
    }
  }

  let status: 'ok' | number
  try {
    status = await probeProfileApi(settings, settings.region, request)
  } catch (error) {
    return {
      connected: false,
      reason: `Segment could not be reached to check the access token: ${messageOf(error)}`,
      retryable: true
    }
  }
  if (status === 'ok') return { connected: true, message: 'You are connected to Segment' }
  if (status === 401 || status === 403) {
    const other = settings.region === 'us' ? 'eu' : 'us'
    const elsewhere = await probeProfileApi(settings, other, request).catch(() => 'unreachable' as const)
    if (elsewhere === 'ok')
      return {
        connected: false,
        field: 'region',
        reason: `The workspace is in the ${other.toUpperCase()} region, not ${settings.region.toUpperCase()}`
      }
    if (status === 403)
      return { connected: false, field: 'space_id', reason: 'The access token is not valid for this space id' }
    return { connected: false, field: 'access_token', reason: 'Segment does not accept this access token' }
  }
  if (status === 404) return { connected: false, field: 'space_id', reason: 'Segment has no space with this id' }
  return {
    connected: false,
    reason: `The Profile API answered HTTP ${status}; try again later`,
    retryable: status === 429 || status >= 500
  }
}
