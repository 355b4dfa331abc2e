import type { JSONValue, SegmentEvent } from '@segment/actions-core'

/*
 * Deterministic Segment spec events (segment.com/docs/connections/spec): fixed ids and timestamps, so tests
 * can assert exact outgoing bodies. Every factory takes overrides that are merged shallowly, with
 * `properties`, `traits` and `context` merged one level deeper.
 */
export const FIXED_TIMESTAMP = '2024-05-01T12:00:00.000Z'

/** Event fields to override; `channel` is in Segment's spec though actions-core's type omits it. */
type Overrides = Partial<SegmentEvent> & { channel?: 'server' | 'browser' | 'mobile' }

function base(type: SegmentEvent['type'], overrides: Overrides): SegmentEvent {
  const context = {
    ip: '203.0.113.7',
    library: { name: 'analytics.js', version: '2.11.1' },
    locale: 'en-US',
    userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)',
    ...(overrides.context ?? {})
  }
  return {
    type,
    messageId: `msg-${type}-0001`,
    timestamp: FIXED_TIMESTAMP,
    receivedAt: FIXED_TIMESTAMP,
    sentAt: FIXED_TIMESTAMP,
    userId: 'user-1234',
    anonymousId: 'anon-5678',
    ...overrides,
    context
  } as SegmentEvent
}

export const sampleTraits = {
  email: 'jane.doe@example.com',
  phone: '+14155550100',
  firstName: 'Jane',
  lastName: 'Doe',
  age: 34,
  birthday: '1990-04-12T00:00:00Z',
  gender: 'female',
  address: { city: 'San Francisco', country: 'US' },
  plan: 'pro'
}

export function identifyEvent(overrides: Overrides = {}): SegmentEvent {
  return base('identify', { ...overrides, traits: { ...sampleTraits, ...(overrides.traits ?? {}) } })
}

export function trackEvent(
  event: string,
  properties: Record<string, JSONValue> = {},
  overrides: Overrides = {}
): SegmentEvent {
  return base('track', { event, ...overrides, properties: { ...properties, ...(overrides.properties ?? {}) } })
}

export function pageEvent(overrides: Overrides = {}): SegmentEvent {
  return base('page', {
    name: 'Pricing',
    ...overrides,
    properties: {
      path: '/pricing',
      url: 'https://example.com/pricing',
      title: 'Pricing',
      ...(overrides.properties ?? {})
    }
  })
}

export function screenEvent(overrides: Overrides = {}): SegmentEvent {
  return base('screen', { name: 'Home', ...overrides, properties: { ...(overrides.properties ?? {}) } })
}

export function groupEvent(overrides: Overrides = {}): SegmentEvent {
  return base('group', {
    groupId: 'group-42',
    ...overrides,
    traits: { name: 'Initech', plan: 'enterprise', ...(overrides.traits ?? {}) }
  })
}

export function aliasEvent(overrides: Overrides = {}): SegmentEvent {
  return base('alias', { previousId: 'anon-5678', ...overrides })
}

// ── Ecommerce v2 ─────────────────────────────────────────────────────────────────────────────────────
const firstProduct: Record<string, JSONValue> = {
  product_id: '507f1f77bcf86cd799439011',
  sku: '45790-32',
  category: 'Games',
  name: 'Monopoly: 3rd Edition',
  brand: 'Hasbro',
  variant: '200 pieces',
  price: 18.99,
  quantity: 1,
  coupon: 'MAYDEALS',
  position: 1,
  url: 'https://www.example.com/product/path',
  image_url: 'https://www.example.com/product/path.jpg'
}

export const sampleProducts: Record<string, JSONValue>[] = [
  firstProduct,
  {
    product_id: '505bd76785ebb509fc183733',
    sku: '46493-32',
    category: 'Games',
    name: 'Uno Card Game',
    brand: 'Mattel',
    price: 3,
    quantity: 2,
    position: 2
  },
  {
    product_id: '60a1c2b3d4e5f60718293a4b',
    sku: '11111-01',
    category: 'Puzzles',
    name: 'Rubik’s Cube',
    price: 9.5,
    quantity: 1,
    position: 3
  }
]

export function productViewedEvent(overrides: Overrides = {}): SegmentEvent {
  return trackEvent('Product Viewed', { ...firstProduct, currency: 'USD', value: 18.99 }, overrides)
}

export function productListViewedEvent(overrides: Overrides = {}): SegmentEvent {
  return trackEvent(
    'Product List Viewed',
    { list_id: 'hot_deals_1', category: 'Deals', products: sampleProducts },
    overrides
  )
}

export function productAddedEvent(overrides: Overrides = {}): SegmentEvent {
  return trackEvent('Product Added', { cart_id: 'skdjsidjsdkdj29j', ...firstProduct, currency: 'USD' }, overrides)
}

export function productRemovedEvent(overrides: Overrides = {}): SegmentEvent {
  return trackEvent('Product Removed', { cart_id: 'skdjsidjsdkdj29j', ...firstProduct, currency: 'USD' }, overrides)
}

export function cartViewedEvent(overrides: Overrides = {}): SegmentEvent {
  return trackEvent(
    'Cart Viewed',
    { cart_id: 'skdjsidjsdkdj29j', currency: 'USD', products: sampleProducts.slice(0, 2) },
    overrides
  )
}

export function checkoutStartedEvent(overrides: Overrides = {}): SegmentEvent {
  return trackEvent(
    'Checkout Started',
    {
      order_id: '50314b8e9bcf000000000000',
      checkout_id: 'chk-0001',
      affiliation: 'Google Store',
      value: 30,
      revenue: 25,
      shipping: 3,
      tax: 2,
      discount: 2.5,
      coupon: 'hasbros',
      currency: 'USD',
      products: sampleProducts.slice(0, 2)
    },
    overrides
  )
}

export function orderCompletedEvent(overrides: Overrides = {}): SegmentEvent {
  return trackEvent(
    'Order Completed',
    {
      checkout_id: 'fksdjfsdjfisjf9sdfjsd9f',
      order_id: '50314b8e9bcf000000000000',
      affiliation: 'Google Store',
      subtotal: 22.5,
      total: 27.5,
      revenue: 25,
      shipping: 3,
      tax: 2,
      discount: 2.5,
      coupon: 'hasbros',
      currency: 'USD',
      products: sampleProducts
    },
    overrides
  )
}

// ── Engage ───────────────────────────────────────────────────────────────────────────────────────────
export function personasContext(
  computationKey: string,
  computationClass: 'audience' | 'computed_trait' | 'journey_step'
) {
  return {
    personas: {
      computation_class: computationClass,
      computation_key: computationKey,
      computation_id: `aud_${computationKey}`,
      space_id: 'spa_9999'
    }
  }
}

export function audienceIdentifyEvent(key: string, member: boolean, overrides: Overrides = {}): SegmentEvent {
  return base('identify', {
    ...overrides,
    traits: { email: sampleTraits.email, [key]: member, ...(overrides.traits ?? {}) },
    context: { ...personasContext(key, 'audience'), ...(overrides.context ?? {}) }
  })
}

export function audienceTrackEvent(key: string, member: boolean, overrides: Overrides = {}): SegmentEvent {
  return trackEvent(
    member ? 'Audience Entered' : 'Audience Exited',
    { audience_key: key, [key]: member },
    {
      ...overrides,
      context: {
        traits: { email: sampleTraits.email },
        ...personasContext(key, 'audience'),
        ...(overrides.context ?? {})
      }
    }
  )
}

export function computedTraitIdentifyEvent(key: string, value: JSONValue, overrides: Overrides = {}): SegmentEvent {
  return base('identify', {
    ...overrides,
    traits: { email: sampleTraits.email, [key]: value, ...(overrides.traits ?? {}) },
    context: { ...personasContext(key, 'computed_trait'), ...(overrides.context ?? {}) }
  })
}

export function computedTraitTrackEvent(key: string, value: JSONValue, overrides: Overrides = {}): SegmentEvent {
  return trackEvent(
    'Trait Computed',
    { trait_key: key, [key]: value },
    {
      ...overrides,
      context: {
        traits: { email: sampleTraits.email },
        ...personasContext(key, 'computed_trait'),
        ...(overrides.context ?? {})
      }
    }
  )
}
