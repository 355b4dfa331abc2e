import { defineFields, ecommerceFields, type InferPayload } from '@open-actions/core'
import { insiderAction } from '../insider-action'
import { customParametersField, identifierFields, insiderBatchingFields, timestampField } from '../insider-fields'
import { buildIdentifiers, customParams, insiderEvent } from '../insider-mapping'

const fields = defineFields({
  ...identifierFields,
  ...timestampField,
  list_category: ecommerceFields.list_category,
  ...customParametersField,
  ...insiderBatchingFields
})
export type ProductListViewedPayload = InferPayload<typeof fields>

export const productListViewedEvent = insiderAction<ProductListViewedPayload>({
  title: 'Product List Viewed',
  description: 'Record Product List Viewed as Insider’s listing_page_view event, the list category as taxonomy.',
  defaultSubscription: 'type = "track" and event = "Product List Viewed"',
  fields,
  toUser: (payload) => ({
    identifiers: buildIdentifiers(payload),
    events: [
      insiderEvent('listing_page_view', payload.timestamp, {
        taxonomy: payload.list_category ? [payload.list_category] : undefined,
        custom: customParams(payload.custom_parameters)
      })
    ]
  })
})
