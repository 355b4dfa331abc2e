import type { SegmentEvent } from '@segment/actions-core'

const user = { userId: 'user-1234', anonymousId: 'anon-5678' }
const at = { timestamp: '2024-05-01T12:00:00.000Z' }
const context = {
  ip: '203.0.113.7',
  locale: 'en-US',
  userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)',
  library: { name: 'analytics.js', version: '2.11.1' },
  page: { url: 'https://www.example.com/pricing', referrer: 'https://www.google.com/', path: '/pricing' }
}
const product = {
  product_id: '507f1f77bcf86cd799439011',
  sku: 'G-32',
  name: 'Monopoly: 3rd Edition',
  category: 'Games',
  price: 18.99,
  quantity: 1,
  currency: 'USD',
  url: 'https://www.example.com/product/path',
  image_url: 'https://www.example.com/product/path.jpg'
}
const products = [
  product,
  {
    product_id: '505bd76785ebb509fc183733',
    sku: '46493-32',
    name: 'Uno Card Game',
    category: 'Games',
    price: 3,
    quantity: 2
  }
]

function track(event: string, properties: Record<string, unknown>, id: string): SegmentEvent {
  return { type: 'track', event, properties, messageId: id, context, ...user, ...at } as SegmentEvent
}

/**
 * Events of the Segment spec (segment.com/docs/connections/spec) for the console's tester: one per message type, the
 * e-commerce events vendors map to their own, and an Engage audience entry. Served by `GET /v1/console`, so the page
 * knows no vendor and no event shape.
 */
export const SAMPLE_EVENTS: Readonly<Record<string, SegmentEvent>> = {
  identify: {
    type: 'identify',
    messageId: 'sample-identify-1',
    traits: {
      email: 'jane.doe@example.com',
      phone: '+14155550100',
      firstName: 'Jane',
      lastName: 'Doe',
      birthday: '1990-04-12',
      gender: 'female',
      plan: 'pro',
      address: { city: 'San Francisco', country: 'US' }
    },
    context,
    ...user,
    ...at
  } as SegmentEvent,
  track: track('Signed Up', { plan: 'pro', source: 'pricing page' }, 'sample-track-1'),
  page: {
    type: 'page',
    name: 'Pricing',
    properties: { path: '/pricing', url: 'https://www.example.com/pricing', title: 'Pricing' },
    messageId: 'sample-page-1',
    context,
    ...user,
    ...at
  } as SegmentEvent,
  screen: {
    type: 'screen',
    name: 'Home',
    properties: { variation: 'blue' },
    messageId: 'sample-screen-1',
    context: { ...context, device: { type: 'ios', id: 'device-1' } },
    ...user,
    ...at
  } as SegmentEvent,
  group: {
    type: 'group',
    groupId: 'group-42',
    traits: { name: 'Initech', industry: 'Software', employees: 120 },
    messageId: 'sample-group-1',
    context,
    ...user,
    ...at
  } as SegmentEvent,
  alias: { type: 'alias', previousId: 'anon-5678', messageId: 'sample-alias-1', ...user, ...at } as SegmentEvent,
  'Product Viewed': track('Product Viewed', product, 'sample-product-viewed-1'),
  'Product Added': track('Product Added', { cart_id: 'cart-1', ...product }, 'sample-product-added-1'),
  'Cart Viewed': track('Cart Viewed', { cart_id: 'cart-1', currency: 'USD', products }, 'sample-cart-viewed-1'),
  'Checkout Started': track(
    'Checkout Started',
    { order_id: '50314b8e9bcf000000000000', value: 30, revenue: 25, currency: 'USD', products },
    'sample-checkout-1'
  ),
  'Order Completed': track(
    'Order Completed',
    {
      order_id: '50314b8e9bcf000000000000',
      checkout_id: 'fksdjfsdjfisjf9sdfjsd9f',
      total: 27.5,
      revenue: 25,
      shipping: 3,
      tax: 2,
      discount: 2.5,
      coupon: 'hasbros',
      currency: 'USD',
      products
    },
    'sample-order-1'
  ),
  'Audience Entered': {
    type: 'identify',
    messageId: 'sample-audience-1',
    traits: { email: 'jane.doe@example.com', vip_customers: true },
    context: {
      ...context,
      personas: {
        computation_class: 'audience',
        computation_key: 'vip_customers',
        computation_id: 'aud_vip_customers',
        space_id: 'spa_9999'
      }
    },
    ...user,
    ...at
  } as SegmentEvent
}
