import { defineFields, ecommerceFields, type InferPayload } from '@open-actions/core'
import { insiderAction } from '../insider-action'
import { contextParams, eventParams, insiderEvent, withContext } from '../insider-mapping'
import { eventActionFields, eventUser } from '../insider-track'

const fields = defineFields({ ...eventActionFields, list_category: ecommerceFields.list_category })
export type ProductListViewedPayload = InferPayload<typeof fields>

export const productListViewedEvent = insiderAction<ProductListViewedPayload>({
  title: 'Product List Viewed',
  description:
    'Record Product List Viewed as Insider’s listing_page_view event: the list category as taxonomy, every other property (the list’s products too) as a parameter.',
  defaultSubscription: 'type = "track" and event = "Product List Viewed"',
  fields,
  toUser: (payload, notes) =>
    eventUser(
      payload,
      [
        insiderEvent(
          'listing_page_view',
          payload.timestamp,
          withContext(
            eventParams(payload.custom_parameters, { fields: { category: payload.list_category } }),
            contextParams(payload)
          )
        )
      ],
      notes
    )
})
