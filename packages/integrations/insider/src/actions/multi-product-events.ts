import { defineFields, ecommerceFields, type InferPayload, orderFields } from '@open-actions/core'
import type { InsiderEvent } from '../insider-api'
import { insiderAction } from '../insider-action'
import { customParametersField, identifierFields, insiderBatchingFields, timestampField } from '../insider-fields'
import { buildIdentifiers, customParams, productEvent, type ProductPayload } from '../insider-mapping'

const fields = defineFields({
  ...identifierFields,
  ...timestampField,
  products: ecommerceFields.products,
  currency: ecommerceFields.currency,
  cart_id: ecommerceFields.cart_id,
  order_id: orderFields.order_id,
  checkout_id: orderFields.checkout_id,
  shipping: orderFields.shipping,
  ...customParametersField,
  ...insiderBatchingFields
})
export type MultiProductPayload = InferPayload<typeof fields>

/** One Insider event per product (the seed: "divides the products into events"), all in the same group. */
function perProductEvents(
  name: string,
  payload: MultiProductPayload,
  groupId: string | undefined,
  alsoStandard: readonly string[]
): InsiderEvent[] {
  const shared = {
    currency: payload.currency,
    event_group_id: groupId,
    shipping_cost: payload.shipping,
    custom: customParams(payload.custom_parameters, alsoStandard)
  }
  const products: (ProductPayload | undefined)[] =
    payload.products && payload.products.length > 0 ? payload.products : [undefined]
  return products.map((product) => productEvent(name, payload.timestamp, product, shared))
}

export const cartViewedEvent = insiderAction<MultiProductPayload>({
  title: 'Cart Viewed',
  description: 'Record Cart Viewed as one Insider cart_page_view event per product, grouped by cart_id.',
  defaultSubscription: 'type = "track" and event = "Cart Viewed"',
  fields,
  toUser: (payload) => ({
    identifiers: buildIdentifiers(payload),
    events: perProductEvents('cart_page_view', payload, payload.cart_id, [])
  })
})

export const checkoutEvent = insiderAction<MultiProductPayload>({
  title: 'Checkout',
  description:
    'Record Checkout Started or Checkout Step Viewed as Insider checkout_page_view events, grouped by checkout_id (else order_id).',
  defaultSubscription: 'type = "track" and (event = "Checkout Started" or event = "Checkout Step Viewed")',
  fields,
  toUser: (payload) => ({
    identifiers: buildIdentifiers(payload),
    events: perProductEvents('checkout_page_view', payload, payload.checkout_id ?? payload.order_id, ['checkout_id'])
  })
})

export const orderCompletedEvent = insiderAction<MultiProductPayload>({
  title: 'Order Completed',
  description:
    'Record Order Completed as one Insider confirmation_page_view (purchase) event per product, grouped by order_id; tax, affiliation, revenue, discount, coupon and checkout_id travel as custom parameters.',
  defaultSubscription: 'type = "track" and event = "Order Completed"',
  fields,
  toUser: (payload) => ({
    identifiers: buildIdentifiers(payload),
    events: perProductEvents('confirmation_page_view', payload, payload.order_id, [])
  })
})
