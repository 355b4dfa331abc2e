/**
 * OneSignal's message event kinds (Event Streams, `event.kind`, as documentation.onesignal.com/docs/event-streams-data
 * spells them) and the Segment event name each becomes. The first 16 are the seed's table ("Message Events → Event
 * Kinds") and are synced by default; the others OneSignal documents too, and are synced when chosen.
 */
export const MESSAGE_EVENT_NAMES = {
  'message.push.sent': 'Push Sent',
  'message.push.received': 'Push Received',
  'message.push.clicked': 'Push Clicked',
  'message.iam.displayed': 'In-App Message Displayed',
  'message.iam.clicked': 'In-App Message Clicked',
  'message.iam.pagedisplayed': 'In-App Message Page Displayed',
  'message.email.sent': 'Email Sent',
  'message.email.opened': 'Email Opened',
  'message.email.unsubscribed': 'Email Unsubscribed',
  'message.email.received': 'Email Received',
  'message.email.reported_as_spam': 'Email Reported As Spam',
  'message.email.hardbounced': 'Email Hardbounced',
  'message.email.failed': 'Email Failed',
  'message.sms.sent': 'SMS Sent',
  'message.sms.delivered': 'SMS Delivered',
  'message.sms.failed': 'SMS Failed',
  'message.push.failed': 'Push Failed',
  'message.push.unsubscribed': 'Push Unsubscribed',
  'message.email.clicked': 'Email Link Clicked',
  'message.email.supressed': 'Email Suppressed',
  'message.sms.undelivered': 'SMS Undelivered'
} as const

export type MessageEventKind = keyof typeof MESSAGE_EVENT_NAMES
export type MessageEventName = (typeof MESSAGE_EVENT_NAMES)[MessageEventKind]
export const MESSAGE_EVENT_KINDS = Object.keys(MESSAGE_EVENT_NAMES) as MessageEventKind[]
export const ALL_MESSAGE_EVENT_NAMES = Object.values(MESSAGE_EVENT_NAMES) as MessageEventName[]

/** The seed's 16, synced unless the settings choose otherwise. */
export const SEED_MESSAGE_EVENT_NAMES = ALL_MESSAGE_EVENT_NAMES.slice(0, 16)

/**
 * Other spellings of the same kinds: the form this package read before (`page_displayed`, `hard_bounced`), the one
 * OneSignal's newer pages use in prose (`message.email.bounced`), and `suppressed` spelled correctly.
 */
const ALIASES: Readonly<Record<string, MessageEventKind>> = {
  'message.iam.page_displayed': 'message.iam.pagedisplayed',
  'message.email.hard_bounced': 'message.email.hardbounced',
  'message.email.bounced': 'message.email.hardbounced',
  'message.email.suppressed': 'message.email.supressed'
}

/** The kind as OneSignal documents it, or undefined for a kind that is not a message event. */
export function messageEventKind(kind: string): MessageEventKind | undefined {
  if (Object.prototype.hasOwnProperty.call(MESSAGE_EVENT_NAMES, kind)) return kind as MessageEventKind
  return Object.prototype.hasOwnProperty.call(ALIASES, kind) ? ALIASES[kind] : undefined
}
