export { destination } from './destination'
export type { SegmentSettings as Settings } from './segment-settings'
export { createSegmentClient } from './tracking-client'
export { deliverSourcePayload } from './deliver-source'
export type { SourceDelivery } from './deliver-source'
export type { BatchResult, SegmentClient, SegmentClientOptions } from './tracking-client'
export { createProfileClient, ProfileNotFoundError } from './profile-client'
export type {
  ProfileClient,
  ProfileClientOptions,
  ProfileIdentifier,
  ProfilePage,
  ProfileQuery,
  ProfileResource
} from './profile-client'
export { deriveMessageId, MESSAGE_TYPES, MessageTooLargeError, prepareMessage, SEGMENT_LIMITS } from './segment-message'
export type { MessageType, SegmentMessage, SegmentMessageInput } from './segment-message'
export { profileRegions, trackingRegions } from './segment-regions'
export type { SegmentRegion } from './segment-regions'
/** This package's version, written into the build from its package.json (nothing is read at import). */
export const VERSION: string = '0.0.0-development'
