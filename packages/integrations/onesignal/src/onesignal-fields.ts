import { defineFields } from '@open-actions/core'

export const flattenField = defineFields({
  flatten_nested_values: {
    label: 'Flatten Nested Values',
    description:
      'OneSignal tags cannot hold objects or arrays. Off (default): they are left out, and the result names each one. On: they are flattened (address.city → address_city).',
    type: 'boolean',
    default: false
  }
})

/*
 * Identify and track carry tags; Engage computations have their own action (segments, membership tags), so the
 * general actions' default subscriptions leave them out and each event matches exactly one preset.
 */
export const NOT_ENGAGE_IDENTIFY =
  'type = "identify" and context.personas.computation_class != "audience" and context.personas.computation_class != "computed_trait"'
export const NOT_ENGAGE_TRACK =
  'type = "track" and event != "Audience Entered" and event != "Audience Exited" and event != "Trait Computed"'
