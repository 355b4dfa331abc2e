export { destination } from './destination'
export { source, toSegmentTrack, oneSignalEventSchema, oneSignalSourceSettingsSchema } from './source/onesignal-source'
export type { OneSignalEvent, OneSignalSourceSettings } from './source/onesignal-source'
export {
  MESSAGE_EVENT_KINDS,
  MESSAGE_EVENT_NAMES,
  SEED_MESSAGE_EVENT_NAMES,
  messageEventKind
} from './source/message-events'
export { EVENT_STREAM_BODY_TEMPLATE } from './source/event-stream-template'
export type { MessageEventKind, MessageEventName } from './source/message-events'
export { ONESIGNAL_LIMITS } from './onesignal-api'
export type { OneSignalSettings as Settings } from './onesignal-api'
/** This package's version, written into the build from its package.json (nothing is read at import). */
export const VERSION: string = '0.0.0-development'
