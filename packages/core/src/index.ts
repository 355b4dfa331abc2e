export {
  basicAuthorization,
  bearerAuthorization,
  customHeaderAuthorization,
  keyAuthorization,
  redactSettings,
  REDACTED,
  secretSettingKeys,
  testAuthentication
} from './auth'
export type { AuthenticationOutcome } from './auth'
export { deliverBatch, deliverInChunks } from './batch'
export type { BatchLimits, DeliverBatchOptions } from './batch'
export { readEngageComputation, AUDIENCE_ENTERED, AUDIENCE_EXITED, TRAIT_COMPUTED } from './engage'
export type { ComputationClass, EngageComputation, EngageInput } from './engage'
export { errorDetails } from './error-details'
export type { ErrorDetails } from './error-details'
export { InvalidSettingError, VendorAuthenticationError, VendorRetryableError } from './errors'
export type { RetryableStatus } from './errors'
export {
  batchingFields,
  ecommerceFields,
  engageFields,
  eventFields,
  identityFields,
  orderFields,
  productProperties
} from './fields'
export {
  assertRecordDelivered,
  assertResponseOk,
  chunkByLimits,
  errorForResponse,
  multiStatusFromOutcomes,
  sendVendorRequest
} from './http'
export { isRetryableStatus, parseRetryAfter } from './retry'
export type { RecordOutcome, VendorErrorContext } from './http'
export { ISO_COUNTRY_CODES, ISO_CURRENCY_CODES } from './iso-codes'
export {
  BLOCKED_ADDRESS_CODE,
  blockedAddressError,
  guardedLookup,
  isBlockedAddress,
  isLocalName
} from './network-guard'
export type { LookupCallback } from './network-guard'
export { toCountryCode, toCurrencyCode, toE164, toUtcTimestamp } from './normalize'
export { compact, setOwn } from './objects'
export { createRedactor } from './redaction'
export type { Redactor } from './redaction'
export { defineRegions } from './regions'
export type { RegionInfo, RegionRegistry, RegionRegistryOptions } from './regions'
export { readPackageVersion } from './package-version'
export { presetsFromActions, presetSubscriptions } from './presets'
export type { Subscription } from './presets'
export { defineSource, runSource } from './source'
export type { SegmentDelivery, SegmentMessage, SourceDefinition } from './source'
export { defineFields } from './types'
export type { InferPayload } from './types'
export {
  countryCode,
  currencyCode,
  e164Phone,
  email,
  flatStringTags,
  formatIssuePath,
  jsonByteLength,
  parsePayload,
  rfc3339,
  toPayloadValidationError,
  withMaxBytes
} from './validation'
/** This package's version, written into the build from its package.json (nothing is read at import). */
export const VERSION: string = '0.0.0-development'
