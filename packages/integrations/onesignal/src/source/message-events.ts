/**
 * OneSignal's message event kinds (event streams, `event.kind`) and the Segment event names the OneSignal seed
 * gives them ("Message Events → Event Kinds").
 */
export const MESSAGE_EVENT_NAMES = {
  'message.push.sent': 'Push Sent',
  'message.push.received': 'Push Received',
  'message.push.clicked': 'Push Clicked',
  'message.iam.displayed': 'In-App Message Displayed',
  'message.iam.clicked': 'In-App Message Clicked',
  'message.iam.page_displayed': 'In-App Message Page Displayed',
  'message.email.sent': 'Email Sent',
  'message.email.opened': 'Email Opened',
  'message.email.unsubscribed': 'Email Unsubscribed',
  'message.email.received': 'Email Received',
  'message.email.reported_as_spam': 'Email Reported As Spam',
  'message.email.hard_bounced': 'Email Hardbounced',
  'message.email.failed': 'Email Failed',
  'message.sms.sent': 'SMS Sent',
  'message.sms.delivered': 'SMS Delivered',
  'message.sms.failed': 'SMS Failed'
} as const

export type MessageEventKind = keyof typeof MESSAGE_EVENT_NAMES
export type MessageEventName = (typeof MESSAGE_EVENT_NAMES)[MessageEventKind]
export const MESSAGE_EVENT_KINDS = Object.keys(MESSAGE_EVENT_NAMES) as MessageEventKind[]
export const ALL_MESSAGE_EVENT_NAMES = Object.values(MESSAGE_EVENT_NAMES) as MessageEventName[]

export function isMessageEventKind(kind: string): kind is MessageEventKind {
  return Object.prototype.hasOwnProperty.call(MESSAGE_EVENT_NAMES, kind)
}
