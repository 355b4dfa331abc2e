import type { z } from 'zod'
import { parsePayload } from './validation'

/** A Segment Tracking API message, as a source emits it (segment.com/docs/connections/spec/common). */
export interface SegmentMessage {
  readonly type: 'identify' | 'track' | 'page' | 'screen' | 'group' | 'alias'
  readonly userId?: string
  readonly anonymousId?: string
  readonly event?: string
  readonly name?: string
  readonly groupId?: string
  readonly previousId?: string
  readonly properties?: Record<string, unknown>
  readonly traits?: Record<string, unknown>
  readonly context?: Record<string, unknown>
  readonly integrations?: Record<string, unknown>
  readonly timestamp?: string
  readonly messageId?: string
}

/** Where a source's messages are delivered: a Segment source's write key and region. */
export interface SegmentDelivery {
  readonly writeKey: string
  readonly region: 'us' | 'eu'
}

/**
 * An inbound integration: a vendor calls the runtime (a webhook), the payload is validated, turned into
 * Segment messages and delivered to the Segment source named by the settings. The runtime serves every
 * source at `POST /v1/sources/<slug>`.
 */
export interface SourceDefinition<Settings, Payload> {
  readonly slug: string
  readonly name: string
  readonly description: string
  /** Settings schema (strict): what a user configures. */
  readonly settingsSchema: z.ZodType<Settings>
  /** Setting keys that hold secrets, for redaction. */
  readonly secretSettings: readonly string[]
  /** The vendor payload as it arrives at the webhook. */
  readonly payloadSchema: z.ZodType<Payload>
  /** Segment messages for one payload; throws a `PayloadValidationError` for input it cannot map. */
  toMessages(payload: Payload, settings: Settings): SegmentMessage[]
  /** Where the messages go. */
  delivery(settings: Settings): SegmentDelivery
}

export function defineSource<Settings, Payload>(
  source: SourceDefinition<Settings, Payload>
): SourceDefinition<Settings, Payload> {
  return source
}

/** Validates settings and payload and maps them; each failure is a `PayloadValidationError` naming the field. */
export function runSource<Settings, Payload>(
  source: SourceDefinition<Settings, Payload>,
  rawPayload: unknown,
  rawSettings: unknown
): { readonly settings: Settings; readonly messages: SegmentMessage[] } {
  const settings = parsePayload(source.settingsSchema, rawSettings, `${source.name} settings`)
  const payload = parsePayload(source.payloadSchema, rawPayload, `${source.name} payload`)
  return { settings, messages: source.toMessages(payload, settings) }
}
