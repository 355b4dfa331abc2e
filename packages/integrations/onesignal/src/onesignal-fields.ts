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
