import { randomUUID } from 'node:crypto'
import type { SegmentEvent } from '@segment/actions-core'

export interface CompletionOptions {
  /** When the message arrived. */
  readonly receivedAt: Date
  /**
   * Set `receivedAt` to now even when the message carries one (Segment's Tracking API always does). Off for the
   * runtime's own API and the CLI, where a replayed message keeps the `receivedAt` Segment gave it originally.
   */
  readonly overwriteReceivedAt: boolean
}

function validDate(value: unknown): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined
  const time = new Date(value).getTime()
  return Number.isFinite(time) ? time : undefined
}

/**
 * Fills a message in as Segment's Tracking API does before anything sees it: a `messageId` when it has none,
 * `receivedAt`, and `timestamp` — the client's `timestamp` corrected for the device's clock skew when the client says
 * when it sent the message (`timestamp = receivedAt − (sentAt − originalTimestamp)`, the client's own value kept as
 * `originalTimestamp`), or `receivedAt` when the message has no timestamp. `sentAt` may come from the batch. Completing
 * a completed message changes nothing.
 */
export function completeMessage(event: SegmentEvent, options: CompletionOptions, batchSentAt?: unknown): SegmentEvent {
  const message = { ...event } as Record<string, unknown>
  if (typeof message.messageId !== 'string' || message.messageId === '') message.messageId = randomUUID()
  const now = options.receivedAt.getTime()
  const received = options.overwriteReceivedAt ? now : (validDate(message.receivedAt) ?? now)
  message.receivedAt = new Date(received).toISOString()
  const sentAt = validDate(message.sentAt) ?? validDate(batchSentAt)
  // The client's own clock reading: `originalTimestamp` once a message has been completed (so completing a message
  // Segment already completed, e.g. a replayed export, gives the same timestamp again), else its `timestamp`.
  const original = validDate(message.originalTimestamp) ?? validDate(message.timestamp)
  if (original === undefined) message.timestamp = message.receivedAt
  else if (sentAt !== undefined) {
    message.originalTimestamp = message.originalTimestamp ?? message.timestamp
    message.timestamp = new Date(received - (sentAt - original)).toISOString()
  }
  return message as unknown as SegmentEvent
}

/** What a destination instance is called by, for the `integrations` object. */
export interface IntegrationNames {
  readonly id: string
  readonly integration: string
  readonly name: string
}

/**
 * Whether a message's `integrations` object lets it reach an instance, as Segment reads it: `"All": false` turns every
 * destination off but those set to a truthy value (`true`, or an options object); otherwise everything is on but those
 * set to `false`. A key names the instance by its id, its integration slug or its definition's name (with or without
 * " (Actions)"): an exact match wins, then a case-insensitive one.
 */
export function allowedByIntegrations(integrations: unknown, instance: IntegrationNames): boolean {
  if (typeof integrations !== 'object' || integrations === null || Array.isArray(integrations)) return true
  const flags = integrations as Record<string, unknown>
  // Segment's catalogue names Actions destinations "<Vendor> (Actions)"; its users often write the vendor alone.
  const names = [instance.id, instance.integration, instance.name, instance.name.replace(/\s*\(Actions\)$/, '')]
  const exact = names.find((name) => name in flags)
  let value: unknown
  if (exact !== undefined) value = flags[exact]
  else {
    const lowered = names.map((name) => name.toLowerCase())
    const key = Object.keys(flags).find((candidate) => lowered.includes(candidate.toLowerCase()))
    if (key !== undefined) value = flags[key]
  }
  if (value !== undefined && value !== null) return value !== false
  return flags.All !== false
}
