import { defineFields, ecommerceFields, type InferPayload, productProperties } from '@open-actions/core'
import { insiderAction } from '../insider-action'
import { contextParams, eventParams, productEvent, withContext } from '../insider-mapping'
import { eventActionFields, eventUser } from '../insider-track'

const fields = defineFields({
  ...eventActionFields,
  product: ecommerceFields.product,
  currency: ecommerceFields.currency
})
export type ProductEventPayload = InferPayload<typeof fields>

/** The properties the `product` field carries; every other property is sent as a parameter. */
const CARRIED = Object.keys(productProperties)

/** Product Viewed / Added / Removed: one product, one Insider event (seed table "Product Viewed"). */
function productEventAction(title: string, segmentEvent: string, insiderName: string) {
  return insiderAction<ProductEventPayload>({
    title,
    description: `Record ${segmentEvent} as Insider’s ${insiderName} event.`,
    defaultSubscription: `type = "track" and event = "${segmentEvent}"`,
    fields,
    toUser: (payload, notes) =>
      eventUser(
        payload,
        [
          productEvent(
            insiderName,
            payload.timestamp,
            payload.product,
            withContext(
              eventParams(payload.custom_parameters, { carried: CARRIED, fields: { currency: payload.currency } }),
              contextParams(payload)
            )
          )
        ],
        notes
      )
  })
}

export const productViewedEvent = productEventAction('Product Viewed', 'Product Viewed', 'product_detail_page_view')
export const productAddedEvent = productEventAction('Product Added', 'Product Added', 'item_added_to_cart')
export const productRemovedEvent = productEventAction('Product Removed', 'Product Removed', 'item_removed_from_cart')
