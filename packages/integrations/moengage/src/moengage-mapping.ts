import type { BulkElement, IdentifyBody, TrackBody } from './moengage-api'

/*
 * One mapping, two transports. An event becomes one body in the shape of MoEngage's Segment integration endpoint
 * (what single sends post, and what Segment's own MoEngage destination posts); a batch sends the same bodies through
 * the public bulk API, each turned into a bulk element here without losing anything the body carries:
 *
 * | Segment integration body               | bulk element                                                          |
 * | -------------------------------------- | --------------------------------------------------------------------- |
 * | user_id                                | customer_id                                                           |
 * | anonymous_id                           | attribute `anonymous_id` (customer) / `device_id` (event)             |
 * | traits                                 | attributes, Segment's reserved traits renamed as below                |
 * | event, properties                      | actions[0].action, actions[0].attributes                              |
 * | timestamp                              | actions[0].user_time and current_time                                 |
 * | context.os.name                        | platform: iOS, ANDROID or web (customer: platforms[])                 |
 * | context.app.version                    | actions[0].app_version                                                |
 * | update_existing_only                   | update_existing_only                                                  |
 *
 * The bulk API has no field for a user update's time, the app version of a user update, or the Segment library
 * version: those three stay out of bulk elements (`bulkElementOf` documents it; the transport test checks the rest).
 */

/** Segment's reserved traits (segment.com/docs/connections/spec/identify) → MoEngage's standard user attributes. */
export const TRAIT_RENAMES: Readonly<Record<string, string>> = {
  firstName: 'first_name',
  lastName: 'last_name',
  phone: 'mobile'
}

/** The bulk API's platform values (iOS, ANDROID, web) from the operating system Segment reports. */
export function platformOf(osName: string | undefined): 'iOS' | 'ANDROID' | 'web' | undefined {
  if (osName === undefined || osName === '') return undefined
  const name = osName.toLowerCase()
  if (name === 'ios' || name === 'ipados') return 'iOS'
  if (name === 'android') return 'ANDROID'
  return 'web'
}

/** Traits as bulk attributes: reserved Segment traits under MoEngage's standard names, the rest unchanged. */
export function renameTraits(traits: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const attributes: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(traits)) {
    const renamed = TRAIT_RENAMES[key]
    // A snake_case trait already under the standard name wins over the camelCase one.
    if (renamed !== undefined && renamed in traits) continue
    attributes[renamed ?? key] = value
  }
  return attributes
}

/** The bulk element for a body of a user with a user_id. */
export function bulkElementOf(body: IdentifyBody | TrackBody): BulkElement {
  const platform = platformOf(body.context.os.name)
  const customerId = body.user_id ?? ''
  if (body.type === 'identify') {
    return {
      type: 'customer',
      customer_id: customerId,
      attributes: {
        ...renameTraits(body.traits),
        ...(body.anonymous_id ? { anonymous_id: body.anonymous_id } : {})
      },
      ...(platform ? { platforms: [{ platform, active: 'true' as const }] } : {}),
      update_existing_only: body.update_existing_only
    }
  }
  return {
    type: 'event',
    customer_id: customerId,
    ...(body.anonymous_id ? { device_id: body.anonymous_id } : {}),
    actions: [
      {
        action: body.event,
        attributes: body.properties,
        ...(platform ? { platform } : {}),
        ...(body.context.app.version ? { app_version: body.context.app.version } : {}),
        user_time: body.timestamp,
        current_time: body.timestamp
      }
    ],
    update_existing_only: body.update_existing_only
  }
}
