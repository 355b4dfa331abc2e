import type { JSONLikeObject, RequestClient } from '@segment/actions-core'
import { defineRegions, sendVendorRequest } from '@open-actions/core'
import { z } from 'zod'

/**
 * MoEngage data centres. DC-01 to DC-06 are listed on help.moengage.com ("Data Centers in MoEngage"); DC-101 is named by
 * MoEngage's API reference (moengage.com/docs/api: "Your MoEngage Data Center (DC) can be 01, 02, 03, 04, 05, 06, or
 * 101", host `api-{dc}.moengage.com`). Data cannot move between them.
 */
export const moengageRegions = defineRegions({
  setting: 'region',
  label: 'Data Center',
  description: 'The MoEngage data center of your workspace (Settings → Account → APIs shows it).',
  regions: {
    DC_01: { url: 'https://api-01.moengage.com', label: 'DC-01 (US)' },
    DC_02: { url: 'https://api-02.moengage.com', label: 'DC-02 (EU)' },
    DC_03: { url: 'https://api-03.moengage.com', label: 'DC-03 (India)' },
    DC_04: { url: 'https://api-04.moengage.com', label: 'DC-04 (US)' },
    DC_05: { url: 'https://api-05.moengage.com', label: 'DC-05 (Singapore)' },
    DC_06: { url: 'https://api-06.moengage.com', label: 'DC-06 (Indonesia)' },
    DC_101: { url: 'https://api-101.moengage.com', label: 'DC-101' }
  },
  defaultRegion: 'DC_01'
})

/** The bulk (transition) API takes at most 100 KB per call. */
export const MOENGAGE_LIMITS = { maxBulkBytes: 100 * 1024, maxBulkElements: 500 } as const

export interface MoEngageSettings {
  api_id: string
  api_key: string
  region: string
}

/** `{"status":"fail","error":{"message","type","attribute","request_id"}}` */
const moengageErrorContext = {
  vendor: 'MoEngage',
  readMessage: (body: unknown) => {
    const parsed = z
      .object({
        error: z.object({ message: z.string(), type: z.string().optional(), attribute: z.string().optional() })
      })
      .safeParse(body)
    if (!parsed.success) return undefined
    const { message, type, attribute } = parsed.data.error
    return [type, message, attribute ? `(attribute ${attribute})` : undefined].filter(Boolean).join(': ')
  }
}

// ── Data rules (moengage.com/docs/api: reserved names) ───────────────────────────────────────────────
const BLOCKED_NAMES = new Set(['id', '_id', ''])
/** The one `moe_` name we send ourselves: MoEngage's Portfolio project of an event. */
export const PROJECT_PROPERTY = 'moe_project_name'

/** Attribute and event names MoEngage refuses: the reserved `moe_` prefix, and `id`, `_id` and the empty name. */
export const attributeNames = (where: string) =>
  z.record(z.string(), z.unknown()).superRefine((record, context) => {
    for (const key of Object.keys(record)) {
      if (BLOCKED_NAMES.has(key))
        context.addIssue({
          code: 'custom',
          path: [key],
          message: `is a blocked MoEngage attribute name (${where} may not use "id", "_id" or an empty name)`
        })
      else if (key.startsWith('moe_') && key !== PROJECT_PROPERTY)
        context.addIssue({
          code: 'custom',
          path: [key],
          message: 'uses the reserved moe_ prefix; MoEngage may blacklist it'
        })
    }
  })

export const eventName = z
  .string()
  .min(1)
  .refine((name) => !name.startsWith('moe_'), 'uses the reserved moe_ prefix; MoEngage may blacklist it')

// ── The Segment integration endpoint (the "v1 Private API" Segment's destination uses) ───────────────
const context = z.strictObject({
  app: z.strictObject({ version: z.string().optional() }),
  os: z.strictObject({ name: z.string().optional() }),
  library: z.strictObject({ version: z.string().optional() })
})

const identity = {
  user_id: z.string().min(1).optional(),
  anonymous_id: z.string().min(1).optional(),
  context,
  timestamp: z.string().min(1),
  update_existing_only: z.boolean()
}
const needsIdentity = { message: 'needs a user_id or an anonymous_id', path: ['user_id'] }

export const identifyBodySchema = z
  .strictObject({ type: z.literal('identify'), traits: attributeNames('traits'), ...identity })
  .refine((body) => body.user_id !== undefined || body.anonymous_id !== undefined, needsIdentity)
export const trackBodySchema = z
  .strictObject({ type: z.literal('track'), event: eventName, properties: attributeNames('properties'), ...identity })
  .refine((body) => body.user_id !== undefined || body.anonymous_id !== undefined, needsIdentity)
export type IdentifyBody = z.infer<typeof identifyBodySchema>
export type TrackBody = z.infer<typeof trackBodySchema>

export function baseUrl(settings: MoEngageSettings): string {
  return moengageRegions.resolve(settings.region)
}

export async function sendToSegmentIntegration(
  request: RequestClient,
  settings: MoEngageSettings,
  body: IdentifyBody | TrackBody
) {
  return sendVendorRequest(
    request,
    `${baseUrl(settings)}/v1/integrations/segment`,
    { method: 'POST', searchParams: { appId: settings.api_id }, json: body as unknown as JSONLikeObject },
    moengageErrorContext
  )
}

export async function checkCredentials(request: RequestClient, settings: MoEngageSettings) {
  return sendVendorRequest(
    request,
    `${baseUrl(settings)}/v1/integrations/segment/auth`,
    { method: 'GET', searchParams: { appId: settings.api_id } },
    moengageErrorContext
  )
}

// ── The public bulk API: POST /v1/transition/{workspace_id} ───────────────────────────────────────────
const platform = z.enum(['iOS', 'ANDROID', 'web'])
export const customerElementSchema = z.strictObject({
  type: z.literal('customer'),
  customer_id: z.string().min(1),
  attributes: attributeNames('traits'),
  platforms: z.array(z.strictObject({ platform, active: z.enum(['true', 'false']) })).optional(),
  update_existing_only: z.boolean().optional()
})
export const eventElementSchema = z.strictObject({
  type: z.literal('event'),
  customer_id: z.string().min(1),
  device_id: z.string().min(1).optional(),
  actions: z
    .array(
      z.strictObject({
        action: eventName,
        attributes: attributeNames('properties'),
        platform: platform.optional(),
        app_version: z.string().optional(),
        user_time: z.string().optional(),
        current_time: z.string().optional()
      })
    )
    .length(1),
  update_existing_only: z.boolean().optional()
})
export type BulkElement = z.infer<typeof customerElementSchema> | z.infer<typeof eventElementSchema>
export const bulkElementSchema = z.union([customerElementSchema, eventElementSchema])

export const BULK_ENVELOPE_BYTES = '{"type":"transition","elements":[]}'.length

/** Every bulk request answers 200 when accepted (its processing is shown on MoEngage's dashboard); 400 when malformed. */
export async function sendBulk(request: RequestClient, settings: MoEngageSettings, elements: BulkElement[]) {
  return sendVendorRequest(
    request,
    `${baseUrl(settings)}/v1/transition/${encodeURIComponent(settings.api_id)}`,
    { method: 'POST', json: { type: 'transition', elements } as unknown as JSONLikeObject },
    moengageErrorContext
  )
}
