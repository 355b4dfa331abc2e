import { compact, defineSource, type SegmentMessage } from '@open-actions/core'
import { PayloadValidationError } from '@segment/actions-core'
import { z } from 'zod'
import {
  ALL_MESSAGE_EVENT_NAMES,
  MESSAGE_EVENT_KINDS,
  MESSAGE_EVENT_NAMES,
  type MessageEventName,
  messageEventKind,
  SEED_MESSAGE_EVENT_NAMES
} from './message-events'

export const oneSignalSourceSettingsSchema = z.strictObject({
  /** The write key of the Segment source "OneSignal". */
  write_key: z.string().min(1, 'is required: the write key of your Segment OneSignal source'),
  /** `eu` for workspaces in Segment's EU region (check your Segment data policy). */
  region: z.enum(['us', 'eu']).default('us'),
  /** Which message events to sync: the seed's 16 by default; OneSignal's other documented kinds when listed. */
  events: z
    .array(z.enum(ALL_MESSAGE_EVENT_NAMES as [MessageEventName, ...MessageEventName[]]))
    .min(1)
    .default(SEED_MESSAGE_EVENT_NAMES)
})
export type OneSignalSourceSettings = z.output<typeof oneSignalSourceSettingsSchema>

/** A Liquid variable that had no value renders as "": the same as absent. */
const text = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value))

/**
 * What an Event Stream posts with the body template (`event-stream-template.ts`): only what is read, everything else
 * ignored, so a template with more variables never breaks parsing. `user` and `subscription.id/type/device_type` are
 * the form this source read before Event Streams were followed exactly; they are still read.
 */
export const oneSignalEventSchema = z.object({
  event: z.object({
    kind: z.string().min(1),
    id: z.string().min(1),
    /** UNIX seconds, as Event Streams send `{{ event.timestamp }}`; an ISO string is read too. */
    timestamp: z.union([z.number(), z.string()]).optional(),
    datetime: text,
    app_id: text,
    external_id: text,
    subscription_id: text,
    onesignal_id: text,
    subscription_device_type: text,
    data: z.record(z.string(), z.unknown()).optional()
  }),
  message: z.object({ id: text, name: text, title: text, contents: text, template_id: text, type: text }).optional(),
  subscription: z.object({ id: text, type: text, device_type: text, language: text }).optional(),
  user: z.object({ external_id: text, onesignal_id: text }).optional()
})
export type OneSignalEvent = z.infer<typeof oneSignalEventSchema>

/** The channel named by the kind's middle part, as the seed words message_type (push, in-app, email, SMS). */
const MESSAGE_TYPES: Record<string, string> = { push: 'push', iam: 'in-app', email: 'email', sms: 'sms' }

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#39': "'", '#34': '"' }

/** Undoes Liquid's `escape` filter, which the body template applies to free text. */
function unescapeHtml(value: string | undefined): string | undefined {
  return value?.replace(/&(amp|lt|gt|quot|apos|#39|#34);/g, (_, name: string) => ENTITIES[name] ?? '')
}

/** OneSignal's subscription type for a device type: `Email`, `SMS`, or `<device>Push` (iOSPush, AndroidPush, ChromePush…). */
function subscriptionType(deviceType: string | undefined): string | undefined {
  if (deviceType === undefined) return undefined
  return deviceType === 'Email' || deviceType === 'SMS' ? deviceType : `${deviceType}Push`
}

/** `event.timestamp` (UNIX seconds, or ISO) as ISO 8601; else `event.datetime`. */
function timestampOf(event: OneSignalEvent['event']): string | undefined {
  const { timestamp } = event
  if (timestamp === undefined || timestamp === '') return event.datetime
  const seconds =
    typeof timestamp === 'number' ? timestamp : /^\d+(\.\d+)?$/.test(timestamp) ? Number(timestamp) : undefined
  const date = seconds === undefined ? new Date(timestamp) : new Date(seconds * 1000)
  if (Number.isNaN(date.getTime()))
    throw new PayloadValidationError(
      `event.timestamp ${JSON.stringify(timestamp)} is not a UNIX time in seconds (what {{ event.timestamp }} gives) nor an ISO 8601 date`
    )
  return date.toISOString()
}

/** OneSignal message events → Segment track calls, as the seed's two tables specify. */
export function toSegmentTrack(payload: OneSignalEvent, settings: OneSignalSourceSettings): SegmentMessage[] {
  const kind = messageEventKind(payload.event.kind)
  if (kind === undefined) {
    throw new PayloadValidationError(
      `event.kind "${payload.event.kind}" is not a OneSignal message event; expected one of ${MESSAGE_EVENT_KINDS.join(', ')}`
    )
  }
  const name = MESSAGE_EVENT_NAMES[kind]
  // A kind the settings do not sync is accepted and left out: OneSignal must not retry it, and it is not an error.
  if (!settings.events.includes(name)) return []
  const { event, message, subscription, user } = payload
  const externalId = event.external_id ?? user?.external_id
  const subscriptionId = event.subscription_id ?? subscription?.id
  if (!externalId && !subscriptionId) {
    throw new PayloadValidationError(
      'event.external_id or event.subscription_id is required: Segment needs a userId or an anonymousId'
    )
  }
  const deviceType = event.subscription_device_type ?? subscription?.device_type
  const data = event.data ?? {}
  const dataText = (key: string) => {
    const value = data[key]
    return typeof value === 'string' && value.trim() !== '' ? unescapeHtml(value) : undefined
  }
  return [
    compact(
      {
        type: 'track' as const,
        event: name,
        // The seed: userId is the external_id, anonymousId the subscription_id.
        userId: externalId,
        anonymousId: subscriptionId,
        // The same OneSignal event delivered twice gets the same Segment messageId, so it is counted once.
        messageId: `onesignal-${event.id}`,
        timestamp: timestampOf(event),
        properties: compact(
          {
            messageId: message?.id,
            campaign_id: message?.id,
            message_name: unescapeHtml(message?.name),
            message_title: unescapeHtml(message?.title),
            message_contents: unescapeHtml(message?.contents),
            message_type: message?.type ?? MESSAGE_TYPES[kind.split('.')[1] ?? ''],
            template_id: message?.template_id,
            subscription_type: subscription?.type ?? subscriptionType(deviceType),
            subscription_id: subscriptionId,
            device_type: deviceType,
            language: subscription?.language,
            onesignal_id: event.onesignal_id ?? user?.onesignal_id,
            app_id: event.app_id,
            page_name: dataText('page_name'),
            page_id: dataText('page_id'),
            target_name: dataText('target_name'),
            target_id: dataText('target_id')
          },
          { dropEmptyStrings: true }
        ),
        context: { integration: { name: 'onesignal', version: '1.0.0' } }
      },
      { dropEmptyStrings: true }
    )
  ]
}

export const source = defineSource({
  slug: 'onesignal',
  name: 'OneSignal message events',
  description:
    'OneSignal data out: push, in-app, email and SMS message events from an Event Stream into Segment as track calls.',
  settingsSchema: oneSignalSourceSettingsSchema,
  secretSettings: ['write_key'],
  payloadSchema: oneSignalEventSchema,
  toMessages: toSegmentTrack,
  delivery: (settings) => ({ writeKey: settings.write_key, region: settings.region })
})
