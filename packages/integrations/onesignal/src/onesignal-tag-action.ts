import type { JSONLikeObject, RequestClient } from '@segment/actions-core'
import { PayloadValidationError } from '@segment/actions-core'
import { ONESIGNAL_LIMITS, type OneSignalSettings, updateUserTags } from './onesignal-api'
import { chunkTags, type TagConversion } from './onesignal-tags'

/** OneSignal stores tags on the user whose External ID is the Segment userId; without one there is no user. */
export function requireExternalId(userId: string | undefined): string {
  if (!userId) {
    throw new PayloadValidationError(
      'user_id is required: OneSignal stores tags on the user whose External ID is the Segment userId, and this event has none, so it was not sent'
    )
  }
  return userId
}

/**
 * Sends the tags (at most 100 per request) and returns what was sent and every value left out with its reason,
 * which actions-core reports as the action's result.
 */
export async function sendTags(
  request: RequestClient,
  settings: OneSignalSettings,
  externalId: string,
  conversion: TagConversion
): Promise<JSONLikeObject> {
  const chunks = chunkTags(conversion.tags, ONESIGNAL_LIMITS.maxTagsPerRequest)
  for (const tags of chunks) await updateUserTags(request, settings, externalId, tags)
  return {
    external_id: externalId,
    tags: conversion.tags,
    requests: chunks.length,
    left_out: conversion.leftOut.map(({ trait, reason }) => ({ trait, reason }))
  }
}
