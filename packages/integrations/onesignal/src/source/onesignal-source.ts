import { compact, defineSource, type SegmentMessage } from '@open-actions/core'
import { PayloadValidationError } from '@segment/actions-core'
import { z } from 'zod'
import {
  ALL_MESSAGE_EVENT_NAMES,
  isMessageEventKind,
  MESSAGE_EVENT_KINDS,
  MESSAGE_EVENT_NAMES,
  type MessageEventName
} from './message-events'

export const oneSignalSourceSettingsSchema = z.strictObject({
  /** The write key of the Segment source "OneSignal". */
  write_key: z.string().min(1, 'is required: the write key of your Segment OneSignal source'),
  /** `eu` for workspaces in Segment's EU region (check your Segment data policy). */
  region: z.enum(['us', 'eu']).default('us'),
  /** Which of the 16 message events to sync (all by default). */
  events: z
    .array(z.enum(ALL_MESSAGE_EVENT_NAMES as [MessageEventName, ...MessageEventName[]]))
    .min(1)
    .default(ALL_MESSAGE_EVENT_NAMES)
})
export type OneSignalSourceSettings = z.output<typeof oneSignalSourceSettingsSchema>

const optionalText = z.string().optional()

/**
 * The event-stream payload: only what we read, everything else ignored, so OneSignal adding fields never
 * breaks parsing. `event.kind` names the message event (`message.push.sent` …).
 */
export const oneSignalEventSchema = z.object({
  event: z.object({
    kind: z.string().min(1),
    id: z.string().min(1),
    timestamp: z.iso.datetime({ offset: true }).optional()
  }),
  message: z
    .object({
      id: z.string().min(1),
      name: optionalText,
      title: optionalText,
      contents: optionalText,
      template_id: optionalText,
      type: optionalText
    })
    .optional(),
  subscription: z
    .object({ id: optionalText, type: optionalText, device_type: optionalText, language: optionalText })
    .optional(),
  user: z.object({ external_id: optionalText, onesignal_id: optionalText }).optional()
})
export type OneSignalEvent = z.infer<typeof oneSignalEventSchema>

/** The channel named by the kind's middle part, as the seed words message_type (push, in-app, email, SMS). */
const MESSAGE_TYPES: Record<string, string> = { push: 'push', iam: 'in-app', email: 'email', sms: 'sms' }

/** OneSignal message events → Segment track calls, as the seed's two tables specify. */
export function toSegmentTrack(payload: OneSignalEvent, settings: OneSignalSourceSettings): SegmentMessage[] {
  const { kind } = payload.event
  if (!isMessageEventKind(kind)) {
    throw new PayloadValidationError(
      `event.kind "${kind}" is not a OneSignal message event; expected one of ${MESSAGE_EVENT_KINDS.join(', ')}`
    )
  }
  const name = MESSAGE_EVENT_NAMES[kind]
  if (!settings.events.includes(name)) return []
  const externalId = payload.user?.external_id
  const subscriptionId = payload.subscription?.id
  if (!externalId && !subscriptionId) {
    throw new PayloadValidationError(
      'user.external_id or subscription.id is required: Segment needs a userId or an anonymousId'
    )
  }
  return [
    compact(
      {
        type: 'track' as const,
        event: name,
        ...(externalId ? { userId: externalId } : { anonymousId: subscriptionId }),
        // The same OneSignal event delivered twice gets the same Segment messageId, so it is counted once.
        messageId: `onesignal-${payload.event.id}`,
        timestamp: payload.event.timestamp,
        properties: compact(
          {
            messageId: payload.message?.id,
            campaign_id: payload.message?.id,
            message_name: payload.message?.name,
            message_title: payload.message?.title,
            message_contents: payload.message?.contents,
            message_type: payload.message?.type ?? MESSAGE_TYPES[kind.split('.')[1] ?? ''],
            template_id: payload.message?.template_id,
            subscription_type: payload.subscription?.type,
            subscription_id: subscriptionId,
            device_type: payload.subscription?.device_type,
            language: payload.subscription?.language,
            onesignal_id: payload.user?.onesignal_id
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
  description: 'OneSignal data out: push, in-app, email and SMS message events into Segment as track calls.',
  settingsSchema: oneSignalSourceSettingsSchema,
  secretSettings: ['write_key'],
  payloadSchema: oneSignalEventSchema,
  toMessages: toSegmentTrack,
  delivery: (settings) => ({ writeKey: settings.write_key, region: settings.region })
})
