import { defineFields, eventFields } from '@open-actions/core'
import { commonMessageFields } from './send-message'

/** Page and screen calls share their fields: a name, a category and properties. */
export const pageFields = defineFields({
  ...commonMessageFields,
  name: {
    label: 'Name',
    description: 'The name of the page or screen.',
    type: 'string',
    default: { '@path': '$.name' }
  },
  category: {
    label: 'Category',
    description: 'The category of the page or screen.',
    type: 'string',
    default: { '@path': '$.category' }
  },
  properties: eventFields.properties
})
