/** The Segment events with their own Insider action (Ecommerce v2 names, plus User Registered). */
export const ECOMMERCE_EVENT_NAMES = [
  'Product List Viewed',
  'Product Viewed',
  'Product Added',
  'Product Removed',
  'Cart Viewed',
  'Cart Reviewed',
  'Checkout Started',
  'Checkout Step Viewed',
  'Order Completed',
  'User Registered'
] as const
