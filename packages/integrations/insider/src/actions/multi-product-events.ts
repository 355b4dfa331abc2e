import { defineFields, ecommerceFields, type InferPayload, orderFields } from '@open-actions/core'
import type { InsiderEvent } from '../insider-api'
import { insiderAction } from '../insider-action'
import { contextParams, eventParams, productEvent, type ProductPayload, withContext } from '../insider-mapping'
import { eventActionFields, eventUser } from '../insider-track'

const fields = defineFields({
  ...eventActionFields,
  products: ecommerceFields.products,
  currency: ecommerceFields.currency,
  cart_id: ecommerceFields.cart_id,
  order_id: orderFields.order_id,
  checkout_id: orderFields.checkout_id,
  shipping: orderFields.shipping
})
export type MultiProductPayload = InferPayload<typeof fields>

/**
 * One Insider event per product (the seed: "divides the products into events"), all in the same group. `grouping`
 * names the property that is the event group id; every property that is neither a product nor carried by a field
 * (tax, affiliation, revenue, discount, coupon, checkout_id …) travels as a parameter of each event.
 */
function perProductEvents(
  name: string,
  payload: MultiProductPayload,
  grouping: { readonly id: string | undefined; readonly from: readonly string[] }
): InsiderEvent[] {
  const shared = withContext(
    eventParams(payload.custom_parameters, {
      fields: { currency: payload.currency, shipping: payload.shipping },
      carried: ['products', ...grouping.from],
      standard: { event_group_id: grouping.id }
    }),
    contextParams(payload)
  )
  const products: (ProductPayload | undefined)[] =
    payload.products && payload.products.length > 0 ? payload.products : [undefined]
  return products.map((product) => productEvent(name, payload.timestamp, product, shared))
}

export const cartViewedEvent = insiderAction<MultiProductPayload>({
  title: 'Cart Viewed',
  description:
    'Record Cart Viewed (or Cart Reviewed, the seed’s name) as one Insider cart_page_view event per product, grouped by cart_id.',
  defaultSubscription: 'type = "track" and (event = "Cart Viewed" or event = "Cart Reviewed")',
  fields,
  toUser: (payload, notes) =>
    eventUser(payload, perProductEvents('cart_page_view', payload, { id: payload.cart_id, from: ['cart_id'] }), notes)
})

export const checkoutEvent = insiderAction<MultiProductPayload>({
  title: 'Checkout',
  description:
    'Record Checkout Started or Checkout Step Viewed as Insider checkout_page_view events, grouped by checkout_id (else order_id).',
  defaultSubscription: 'type = "track" and (event = "Checkout Started" or event = "Checkout Step Viewed")',
  fields,
  toUser: (payload, notes) =>
    eventUser(
      payload,
      perProductEvents('checkout_page_view', payload, {
        id: payload.checkout_id ?? payload.order_id,
        from: payload.checkout_id !== undefined ? ['checkout_id'] : ['order_id']
      }),
      notes
    )
})

export const orderCompletedEvent = insiderAction<MultiProductPayload>({
  title: 'Order Completed',
  description:
    'Record Order Completed as one Insider confirmation_page_view (purchase) event per product, grouped by order_id; tax, affiliation, revenue, discount, coupon and checkout_id travel as custom parameters.',
  defaultSubscription: 'type = "track" and event = "Order Completed"',
  fields,
  toUser: (payload, notes) =>
    eventUser(
      payload,
      perProductEvents('confirmation_page_view', payload, { id: payload.order_id, from: ['order_id'] }),
      notes
    )
})
