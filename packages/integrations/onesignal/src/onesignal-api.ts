import type { JSONLikeObject, RequestClient } from '@segment/actions-core'
import { jsonByteLength, parsePayload, type RecordOutcome, sendVendorRequest } from '@open-actions/core'
import { z } from 'zod'

/*
 * OneSignal REST API v1 (OneSignal/onesignal-node-api, API 5.x): base https://api.onesignal.com,
 * `Authorization: Key <API key>` for App and Organization keys.
 * Rate limits (documentation.onesignal.com/reference/rate-limits): user updates 1,000 requests/s per app and
 * 1 request/s per user, up to 100 property updates per request; 429 answers carry Retry-After in seconds.
 */
export const ONESIGNAL_API = 'https://api.onesignal.com'

export const ONESIGNAL_LIMITS = {
  maxTagsPerRequest: 100,
  maxEventNameLength: 128,
  maxCustomEventBytes: 2024,
  maxCustomEventsRequestBytes: 1024 * 1024,
  maxCustomEventsPerRequest: 1000
} as const

/** Tag keys OneSignal reserves (documentation.onesignal.com/docs/add-user-data-tags). */
export const RESERVED_TAG_KEYS = new Set([
  'message',
  'notification',
  'subscription',
  'user',
  'template',
  'app',
  'org',
  'dynamic_content',
  'data_feed',
  'journey',
  'custom_data'
])

export interface OneSignalSettings {
  app_id: string
  api_key: string
}

const oneSignalErrorContext = {
  vendor: 'OneSignal',
  readMessage: (body: unknown) => {
    // Errors come as { errors: ["…"] } or { errors: [{ title, code }] }.
    const parsed = z.object({ errors: z.array(z.union([z.string(), z.object({ title: z.string() })])) }).safeParse(body)
    if (!parsed.success) return undefined
    return parsed.data.errors.map((error) => (typeof error === 'string' ? error : error.title)).join('; ')
  }
}

function appUrl(settings: OneSignalSettings, path: string): string {
  return `${ONESIGNAL_API}/apps/${encodeURIComponent(settings.app_id)}${path}`
}

/** Tags as OneSignal stores them: flat, string values; `""` removes a tag. */
export const tagsSchema = z.record(
  z
    .string()
    .min(1)
    .refine((key) => !RESERVED_TAG_KEYS.has(key), 'is a tag key OneSignal reserves'),
  z.string({ error: 'tag values must be strings' })
)

/** Update a user's tags by External ID: `PATCH /apps/{app_id}/users/by/external_id/{external_id}` (answers 202). */
export async function updateUserTags(
  request: RequestClient,
  settings: OneSignalSettings,
  externalId: string,
  tags: Record<string, string>
) {
  const body = { properties: { tags: parsePayload(tagsSchema, tags, 'OneSignal tags') } }
  await sendVendorRequest(
    request,
    appUrl(settings, `/users/by/external_id/${encodeURIComponent(externalId)}`),
    { method: 'PATCH', json: body },
    oneSignalErrorContext
  )
  return body
}

// ── Custom events: POST /apps/{app_id}/integrations/custom_events ──────────────────────────────────────
export const customEventSchema = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .max(ONESIGNAL_LIMITS.maxEventNameLength, `must be at most ${ONESIGNAL_LIMITS.maxEventNameLength} characters`),
    external_id: z.string().min(1),
    timestamp: z.iso.datetime({ offset: true }),
    payload: z.record(z.string(), z.unknown())
  })
  .refine((event) => jsonByteLength(event) <= ONESIGNAL_LIMITS.maxCustomEventBytes, {
    message: `a custom event must be at most ${ONESIGNAL_LIMITS.maxCustomEventBytes} bytes`,
    path: ['payload']
  })
export type CustomEvent = z.infer<typeof customEventSchema>

/**
 * OneSignal answers 202 and lists per-event failures under `errors`; it does not document their shape, so we
 * read the forms seen in its API (`[{ index, title|message }]`, or `{ "<index>": … }`) and fail every event
 * when a failure cannot be attributed, rather than count an unknown failure as delivered.
 */
export function readCustomEventOutcomes(body: unknown, events: readonly CustomEvent[]): RecordOutcome[] {
  const sent = (event: CustomEvent) => event as unknown as JSONLikeObject
  const errors = z.object({ errors: z.unknown() }).safeParse(body)
  if (!errors.success || errors.data.errors === undefined || errors.data.errors === null)
    return events.map((event) => ({ ok: true, sent: sent(event) }))
  const failures = new Map<number, string>()
  const raw = errors.data.errors
  const describe = (detail: unknown) => (typeof detail === 'string' ? detail : JSON.stringify(detail))
  if (Array.isArray(raw)) {
    for (const entry of raw) {
      const indexed = z.object({ index: z.number().int() }).passthrough().safeParse(entry)
      if (!indexed.success)
        return events.map((event) => ({
          ok: false,
          status: 400,
          message: `OneSignal refused the events: ${describe(raw)}`,
          sent: sent(event)
        }))
      failures.set(indexed.data.index, describe(entry))
    }
  } else if (typeof raw === 'object') {
    for (const [key, detail] of Object.entries(raw)) {
      if (!/^\d+$/.test(key))
        return events.map((event) => ({
          ok: false,
          status: 400,
          message: `OneSignal refused the events: ${describe(raw)}`,
          sent: sent(event)
        }))
      failures.set(Number(key), describe(detail))
    }
  }
  return events.map((event, index) => {
    const failure = failures.get(index)
    return failure === undefined
      ? { ok: true, sent: sent(event) }
      : { ok: false, status: 400, message: `OneSignal refused the event: ${failure}`, sent: sent(event) }
  })
}

export async function sendCustomEvents(
  request: RequestClient,
  settings: OneSignalSettings,
  events: CustomEvent[]
): Promise<RecordOutcome[]> {
  const response = await sendVendorRequest(
    request,
    appUrl(settings, '/integrations/custom_events'),
    { method: 'POST', json: { events } as unknown as JSONLikeObject },
    oneSignalErrorContext
  )
  return readCustomEventOutcomes(response.data, events)
}

// ── Segments: GET/POST /apps/{app_id}/segments ─────────────────────────────────────────────────────────
const segmentListSchema = z.object({
  total_count: z.number().optional(),
  offset: z.number().optional(),
  limit: z.number().optional(),
  segments: z.array(z.object({ id: z.string(), name: z.string() })).default([])
})

const SEGMENT_PAGE_SIZE = 300

export async function findSegment(
  request: RequestClient,
  settings: OneSignalSettings,
  name: string
): Promise<string | undefined> {
  for (let offset = 0; ; offset += SEGMENT_PAGE_SIZE) {
    const response = await sendVendorRequest(
      request,
      appUrl(settings, '/segments'),
      { method: 'GET', searchParams: { offset: String(offset), limit: String(SEGMENT_PAGE_SIZE) } },
      oneSignalErrorContext
    )
    const page = segmentListSchema.parse(response.data)
    const found = page.segments.find((segment) => segment.name === name)
    if (found) return found.id
    if (
      page.segments.length < SEGMENT_PAGE_SIZE ||
      (page.total_count !== undefined && offset + SEGMENT_PAGE_SIZE >= page.total_count)
    )
      return undefined
  }
}

/** A segment of the users whose tag `<key>` is "true": how an Engage audience appears in OneSignal. */
export async function createAudienceSegment(
  request: RequestClient,
  settings: OneSignalSettings,
  name: string,
  tagKey: string
): Promise<void> {
  const body = { name, filters: [{ field: 'tag', key: tagKey, relation: '=', value: 'true' }] }
  try {
    await sendVendorRequest(
      request,
      appUrl(settings, '/segments'),
      { method: 'POST', json: body },
      oneSignalErrorContext
    )
  } catch (error) {
    // 409: created meanwhile by a concurrent event for the same audience; that is the outcome we wanted.
    if ((error as { status?: unknown }).status !== 409) throw error
  }
}

export async function checkCredentials(request: RequestClient, settings: OneSignalSettings): Promise<void> {
  await sendVendorRequest(
    request,
    appUrl(settings, '/segments'),
    { method: 'GET', searchParams: { offset: '0', limit: '1' } },
    oneSignalErrorContext
  )
}
