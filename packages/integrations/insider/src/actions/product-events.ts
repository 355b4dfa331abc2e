import { defineFields, ecommerceFields, type InferPayload } from '@open-actions/core'
import { insiderAction } from '../insider-action'
import { customParametersField, identifierFields, insiderBatchingFields, timestampField } from '../insider-fields'
import { buildIdentifiers, customParams, productEvent } from '../insider-mapping'

const fields = defineFields({
  ...identifierFields,
  ...timestampField,
  product: ecommerceFields.product,
  currency: ecommerceFields.currency,
  ...customParametersField,
  ...insiderBatchingFields
})
export type ProductEventPayload = InferPayload<typeof fields>

/** Product Viewed / Added / Removed: one product, one Insider event (seed table "Product Viewed"). */
function productEventAction(title: string, segmentEvent: string, insiderName: string) {
  return insiderAction<ProductEventPayload>({
    title,
    description: `Record ${segmentEvent} as Insider’s ${insiderName} event.`,
    defaultSubscription: `type = "track" and event = "${segmentEvent}"`,
    fields,
    toUser: (payload) => ({
      identifiers: buildIdentifiers(payload),
      events: [
        productEvent(insiderName, payload.timestamp, payload.product, {
          currency: payload.currency,
          custom: customParams(payload.custom_parameters)
        })
      ]
    })
  })
}

export const productViewedEvent = productEventAction('Product Viewed', 'Product Viewed', 'product_detail_page_view')
export const productAddedEvent = productEventAction('Product Added', 'Product Added', 'item_added_to_cart')
export const productRemovedEvent = productEventAction('Product Removed', 'Product Removed', 'item_removed_from_cart')
