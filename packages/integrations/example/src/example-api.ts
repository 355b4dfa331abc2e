import type { JSONLikeObject, RequestClient } from '@segment/actions-core'
import { defineRegions, type RecordOutcome, sendVendorRequest } from '@open-actions/core'
import { z } from 'zod'

/*
 * The Example Vendor API (fictional, documented here as if it were a real vendor's reference):
 * - Hosts: https://api.example-vendor.com (us), https://api.eu.example-vendor.com (eu).
 * - Auth: `Authorization: Bearer <api_key>`; `GET /v2/workspaces/{workspace_id}` answers 200 for valid keys.
 * - `POST /v2/workspaces/{workspace_id}/users`: at most 100 users and 256 KB per request.
 * - `POST /v2/workspaces/{workspace_id}/events`: at most 100 events and 256 KB per request; answers 200 with
 *   `{ accepted, errors: [{ index, message }] }`, where each error names an event that was not stored.
 */
export const exampleRegions = defineRegions({
  setting: 'region',
  label: 'Region',
  description: 'The data center of your Example Vendor workspace.',
  regions: {
    us: { url: 'https://api.example-vendor.com', label: 'United States' },
    eu: { url: 'https://api.eu.example-vendor.com', label: 'European Union' }
  },
  defaultRegion: 'us'
})

export const EXAMPLE_LIMITS = { maxItems: 100, maxBytes: 256 * 1024 } as const

export const exampleUserSchema = z
  .strictObject({
    id: z.string().min(1).optional(),
    anonymous_id: z.string().min(1).optional(),
    email: z.email().optional(),
    traits: z.record(z.string(), z.json())
  })
  .refine((user) => user.id !== undefined || user.anonymous_id !== undefined, {
    message: 'needs an id or an anonymous_id',
    path: ['id']
  })
export type ExampleUser = z.infer<typeof exampleUserSchema>

export const exampleEventSchema = z.strictObject({
  name: z.string().min(1).max(200),
  user_id: z.string().min(1).optional(),
  anonymous_id: z.string().min(1).optional(),
  message_id: z.string().min(1).optional(),
  timestamp: z.iso.datetime({ offset: true }),
  properties: z.record(z.string(), z.json())
})
export type ExampleEvent = z.infer<typeof exampleEventSchema>

/** What we read back from the events endpoint: only the fields the integration uses. */
const eventsResponseSchema = z.object({
  errors: z.array(z.object({ index: z.number().int(), message: z.string() })).default([])
})

const exampleErrorContext = {
  vendor: 'Example Vendor',
  readMessage: (body: unknown) => {
    const parsed = z.object({ error: z.object({ message: z.string() }) }).safeParse(body)
    return parsed.success ? parsed.data.error.message : undefined
  }
}

export interface ExampleSettings {
  workspace_id: string
  api_key: string
  region: string
}

function workspaceUrl(settings: ExampleSettings, path: string): string {
  return `${exampleRegions.resolve(settings.region)}/v2/workspaces/${encodeURIComponent(settings.workspace_id)}${path}`
}

export function checkWorkspace(request: RequestClient, settings: ExampleSettings) {
  return sendVendorRequest(request, workspaceUrl(settings, ''), { method: 'GET' }, exampleErrorContext)
}

export function upsertUsers(request: RequestClient, settings: ExampleSettings, users: readonly ExampleUser[]) {
  return sendVendorRequest(
    request,
    workspaceUrl(settings, '/users'),
    { method: 'POST', json: { users } },
    exampleErrorContext
  )
}

/** Sends events; a 200 that lists failed events becomes a failed outcome for each, never "delivered". */
export async function sendEvents(
  request: RequestClient,
  settings: ExampleSettings,
  events: readonly ExampleEvent[]
): Promise<RecordOutcome[]> {
  const response = await sendVendorRequest(
    request,
    workspaceUrl(settings, '/events'),
    { method: 'POST', json: { events } },
    exampleErrorContext
  )
  const { errors } = eventsResponseSchema.parse(response.data ?? {})
  const failures = new Map(errors.map((error) => [error.index, error.message]))
  return events.map((event, index) => {
    const sent = event as JSONLikeObject
    const failure = failures.get(index)
    return failure === undefined
      ? { ok: true, sent }
      : { ok: false, status: 400, message: `Example Vendor refused the event: ${failure}`, sent }
  })
}
