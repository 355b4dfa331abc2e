import type { JSONLikeObject, RequestClient } from '@segment/actions-core'
import {
  countryCode,
  e164Phone,
  email,
  errorForResponse,
  type RecordOutcome,
  rfc3339,
  sendVendorRequest
} from '@open-actions/core'
import { PayloadValidationError } from '@segment/actions-core'
import { z } from 'zod'

/*
 * Insider One Unification API (academy.insiderone.com/docs/api-reference-upsert-user-data). One host, no regions.
 * Headers: X-PARTNER-NAME (lower-case partner name), X-REQUEST-TOKEN (the UCD key), Content-Type: application/json.
 */
export const INSIDER_HOST = 'https://unification.useinsider.com'
export const UPSERT_URL = `${INSIDER_HOST}/api/user/v1/upsert`
export const ATTRIBUTE_DELETE_URL = `${INSIDER_HOST}/api/user/v1/attribute/delete`
export const PROFILE_URL = `${INSIDER_HOST}/api/user/v1/profile`

/** At most 1,000 users and 5 MB per upsert request; 25,000 requests per minute. */
export const INSIDER_LIMITS = { maxUsers: 1000, maxBytes: 5 * 1024 * 1024 } as const

export interface InsiderSettings {
  account_name: string
  ucd_key: string
}

export function insiderHeaders(settings: InsiderSettings, platformHeader: boolean): Record<string, string> {
  return {
    'X-PARTNER-NAME': settings.account_name.toLowerCase(),
    'X-REQUEST-TOKEN': settings.ucd_key,
    'Content-Type': 'application/json',
    ...(platformHeader ? { 'X-PLATFORM-NAME': 'segment' } : {})
  }
}

// ── What we send (strict: a key Insider does not know is our bug) ─────────────────────────────────────
const customMap = z.record(z.string().min(1), z.unknown())

export const identifiersSchema = z
  .strictObject({
    uuid: z.string().min(1).optional(),
    email: email.optional(),
    phone_number: e164Phone.optional(),
    custom: z.record(z.string().min(1), z.union([z.string(), z.number()])).optional()
  })
  .refine(
    (identifiers) =>
      Object.keys(identifiers).some((key) => key !== 'custom') || Object.keys(identifiers.custom ?? {}).length > 0,
    {
      message: 'needs at least one identifier (uuid, email, phone_number or a custom identifier)'
    }
  )

export const attributesSchema = z.strictObject({
  email: email.optional(),
  phone_number: e164Phone.optional(),
  name: z.string().optional(),
  surname: z.string().optional(),
  gender: z.string().optional(),
  age: z.number().optional(),
  birthday: rfc3339.refine((value) => value.endsWith('Z'), 'must end in Z (UTC), e.g. 1990-04-12T00:00:00Z').optional(),
  language: z.string().optional(),
  city: z.string().optional(),
  country: countryCode.optional(),
  email_optin: z.boolean().optional(),
  sms_optin: z.boolean().optional(),
  whatsapp_optin: z.boolean().optional(),
  gdpr_optin: z.boolean().optional(),
  custom: customMap.optional()
})

export const eventParamsSchema = z.strictObject({
  product_id: z.string().optional(),
  name: z.string().optional(),
  taxonomy: z.array(z.string()).optional(),
  url: z.string().optional(),
  product_image_url: z.string().optional(),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 currency code such as "USD"')
    .optional(),
  quantity: z.number().int().optional(),
  unit_price: z.number().optional(),
  unit_sale_price: z.number().optional(),
  event_group_id: z.string().optional(),
  variant_id: z.string().optional(),
  shipping_cost: z.number().optional(),
  // Not in Insider's list of standard parameters, but what Segment's own Insider destination sends.
  referrer: z.string().optional(),
  user_agent: z.string().optional(),
  custom: customMap.optional()
})

/**
 * Insider documents required params for exactly two events (its API reference, "Required fields"): `purchase` and
 * `cart_page_view`. Order Completed is sent as `confirmation_page_view`, for which Insider documents none: an order
 * whose product has no quantity is still recorded.
 */
const REQUIRED_PARAMS = new Map<string, readonly (keyof z.infer<typeof eventParamsSchema>)[]>([
  ['purchase', ['event_group_id', 'unit_sale_price', 'currency', 'quantity']],
  ['cart_page_view', ['event_group_id', 'unit_sale_price', 'currency']]
])

export const insiderEventSchema = z
  .strictObject({
    event_name: z.string().min(1),
    timestamp: rfc3339,
    event_params: eventParamsSchema.optional()
  })
  .superRefine((event, context) => {
    for (const param of REQUIRED_PARAMS.get(event.event_name) ?? []) {
      if (event.event_params?.[param] === undefined) {
        context.addIssue({
          code: 'custom',
          path: ['event_params', param],
          message: `is required for ${event.event_name} events`
        })
      }
    }
  })

export const insiderUserSchema = z
  .strictObject({
    identifiers: identifiersSchema,
    attributes: attributesSchema.optional(),
    events: z.array(insiderEventSchema).optional(),
    not_append: z.boolean().optional()
  })
  .refine(
    (user) => (user.attributes && Object.keys(user.attributes).length > 0) || (user.events && user.events.length > 0),
    {
      message: 'needs at least one attribute or event',
      path: ['attributes']
    }
  )
export type InsiderUser = z.infer<typeof insiderUserSchema>
export type InsiderEvent = z.infer<typeof insiderEventSchema>
export type InsiderAttributes = z.infer<typeof attributesSchema>
export type InsiderIdentifiers = z.infer<typeof identifiersSchema>

/**
 * The body of an upsert of users that are already `InsiderUser`s (each one parsed by `insiderUserSchema` when it was
 * built), checked against Insider's request limits only: 1 to 1,000 users, at most 5 MB as JSON. `json` is each user's
 * JSON text when a batch has it already (it sized the users with it): the body is put together from those texts, the
 * bytes `JSON.stringify` would give, without serializing each user a second time.
 */
export function upsertBody(
  users: readonly InsiderUser[],
  json: readonly string[] = users.map((user) => JSON.stringify(user))
): string {
  if (users.length < 1 || users.length > INSIDER_LIMITS.maxUsers)
    throw new PayloadValidationError(
      `An Insider upsert request holds 1 to ${INSIDER_LIMITS.maxUsers} users; this one has ${users.length}`
    )
  const body = `{"users":[${json.join(',')}],"platform":"segment"}`
  const bytes = Buffer.byteLength(body, 'utf8')
  if (bytes > INSIDER_LIMITS.maxBytes)
    throw new PayloadValidationError(
      `An Insider upsert request must be at most ${INSIDER_LIMITS.maxBytes} bytes as JSON; this one is ${bytes}`
    )
  return body
}

// ── What we read back (minimal: only what the integration uses) ─────────────────────────────────────
const isJsonObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * `data.fail` of an upsert answer: `{ count, errors }`, or undefined when the answer has no such report or one of
 * another shape (then nothing is attributed to a user, as for an answer without failures).
 */
function failureReport(body: unknown): { count: number; errors: Record<string, unknown> } | undefined {
  const fail = isJsonObject(body) && isJsonObject(body.data) ? body.data.fail : undefined
  if (!isJsonObject(fail)) return undefined
  const { count, errors } = fail
  if (count !== undefined && typeof count !== 'number') return undefined
  if (errors !== undefined && !isJsonObject(errors)) return undefined
  return { count: count ?? 0, errors: errors ?? {} }
}

const insiderErrorContext = {
  vendor: 'Insider',
  readMessage: (body: unknown) => {
    const parsed = z.object({ error: z.string() }).safeParse(body)
    return parsed.success ? parsed.data.error : undefined
  }
}

/**
 * Per-user outcomes of an upsert. Insider answers 200 even when some users failed:
 * `{"data":{"fail":{"count":N,"errors":{"users.0.events.0.event_params.*.required":[…]}}}}`. Each error key names
 * the user's index in the request, so exactly those users fail; a failure count we cannot attribute fails all.
 */
export function readUpsertOutcomes(body: unknown, users: readonly InsiderUser[]): RecordOutcome[] {
  const fail = failureReport(body)
  const count = fail?.count ?? 0
  const sent = (user: InsiderUser) => user as unknown as JSONLikeObject
  if (count === 0) return users.map((user) => ({ ok: true, sent: sent(user) }))

  const messagesByUser = new Map<number, string[]>()
  for (const [key, detail] of Object.entries(fail?.errors ?? {})) {
    const match = /^users\.(\d+)\b/.exec(key)
    if (!match) continue
    const index = Number(match[1])
    messagesByUser.set(index, [...(messagesByUser.get(index) ?? []), `${key}: ${JSON.stringify(detail)}`])
  }
  if (messagesByUser.size === 0) {
    const message = `Insider reported ${count} failed record(s) without naming them`
    return users.map((user) => ({ ok: false, status: 400, message, sent: sent(user) }))
  }
  return users.map((user, index) => {
    const messages = messagesByUser.get(index)
    return messages
      ? { ok: false, status: 400, message: `Insider refused the record: ${messages.join('; ')}`, sent: sent(user) }
      : { ok: true, sent: sent(user) }
  })
}

export async function upsertUsers(
  request: RequestClient,
  users: InsiderUser[],
  json?: readonly string[]
): Promise<RecordOutcome[]> {
  // A string body: the Content-Type (application/json) is among the headers every Insider request has.
  const response = await sendVendorRequest(
    request,
    UPSERT_URL,
    { method: 'POST', body: upsertBody(users, json) },
    insiderErrorContext
  )
  return readUpsertOutcomes(response.data, users)
}

/** Removes single values from array attributes: `{ custom: { partial: { segment_audience_name: [key] } } }`. */
export interface AttributeDeletion {
  identifiers: InsiderIdentifiers
  custom: { partial: Record<string, string[]> }
}

export async function deleteAttributeValues(request: RequestClient, users: AttributeDeletion[]): Promise<void> {
  await sendVendorRequest(
    request,
    ATTRIBUTE_DELETE_URL,
    { method: 'POST', json: { users } as unknown as JSONLikeObject },
    insiderErrorContext
  )
}

/**
 * The authentication test: reading one profile is Insider's most harmless call that still checks the partner
 * name and token. 403 means bad credentials; any other answer below 500 (a 200, or a 4xx for the made-up
 * identifier) means Insider accepted them.
 */
export async function checkCredentials(request: RequestClient): Promise<void> {
  const response = await request(PROFILE_URL, {
    method: 'POST',
    json: { identifiers: { uuid: 'open-actions-credentials-check' }, attributes: ['uuid'] },
    throwHttpErrors: false,
    // See sendVendorRequest: without it, a profile answer over 16 KB would stall.
    skipResponseCloning: true
  })
  if (response.status === 401 || response.status === 403 || response.status >= 500) {
    const error = errorForResponse(response, insiderErrorContext)
    if (error) throw error
  }
}
