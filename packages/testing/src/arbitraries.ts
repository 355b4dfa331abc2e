import fc from 'fast-check'

/** The seed every fuzz run starts from unless `FUZZ_SEED` is set, so failures reproduce. */
export const DEFAULT_FUZZ_SEED = 20241101

export function fuzzSeed(): number {
  const fromEnvironment = Number(process.env.FUZZ_SEED)
  return Number.isInteger(fromEnvironment) ? fromEnvironment : DEFAULT_FUZZ_SEED
}

const ECOMMERCE_EVENTS = [
  'Product Viewed',
  'Product List Viewed',
  'Product Added',
  'Product Removed',
  'Cart Viewed',
  'Checkout Started',
  'Checkout Step Viewed',
  'Order Completed',
  'User Registered',
  'Audience Entered',
  'Audience Exited',
  'Trait Computed'
]

const awkwardKeys = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  '',
  ' ',
  'moe_reserved',
  'id',
  '_id',
  'a.b',
  'ключ',
  '🔑'
)
const awkwardStrings = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\uD800',
    'null',
    'undefined',
    'NaN',
    '+1',
    'not-an-email',
    '+14155550100',
    'jane@example.com',
    '2024-05-01T12:00:00Z'
  ),
  fc.nat({ max: 40_000 }).map((length) => 'x'.repeat(length))
)

/** Any JSON value, including deep nesting and awkward keys. */
export const jsonValueArbitrary: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    awkwardStrings,
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), awkwardKeys), tie('value'), { maxKeys: 5 })
  )
})).value

const properties = fc.dictionary(
  fc.oneof(
    fc.constantFrom(
      'product_id',
      'price',
      'quantity',
      'currency',
      'products',
      'email',
      'cart_id',
      'order_id',
      'audience_key',
      'trait_key'
    ),
    fc.string({ maxLength: 10 }),
    awkwardKeys
  ),
  jsonValueArbitrary,
  { maxKeys: 8 }
)

const product = fc.record(
  {
    product_id: fc.oneof(fc.string(), fc.integer()),
    name: awkwardStrings,
    price: fc.oneof(fc.double(), fc.string()),
    quantity: fc.oneof(fc.integer(), fc.string()),
    category: awkwardStrings
  },
  { requiredKeys: [] }
)

const maybeId = fc.option(fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), fc.integer(), fc.constant('')), {
  nil: undefined
})

/**
 * Segment events from the spec's happy path through to malformed input: missing ids, wrong types,
 * huge strings, deep nesting, unicode, prototype keys. Used by `pnpm fuzz` and property tests.
 */
export const segmentEventArbitrary: fc.Arbitrary<Record<string, unknown>> = fc
  .record(
    {
      type: fc.oneof(
        fc.constantFrom('identify', 'track', 'page', 'screen', 'group', 'alias'),
        fc.string({ maxLength: 6 })
      ),
      event: fc.oneof(fc.constantFrom(...ECOMMERCE_EVENTS), awkwardStrings, awkwardKeys),
      userId: maybeId,
      anonymousId: maybeId,
      messageId: fc.option(fc.string({ minLength: 1, maxLength: 36 }), { nil: undefined }),
      timestamp: fc.oneof(
        fc.constant('2024-05-01T12:00:00.000Z'),
        fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
        awkwardStrings
      ),
      properties: fc.oneof(
        properties,
        properties.map((value) => ({ ...value, products: [] })),
        fc
          .array(product, { maxLength: 4 })
          .map((products) => ({ products, currency: 'USD', order_id: 'o-1', cart_id: 'c-1' }))
      ),
      traits: fc.oneof(
        properties,
        fc.record(
          { email: awkwardStrings, phone: awkwardStrings, firstName: awkwardStrings, address: jsonValueArbitrary },
          { requiredKeys: [] }
        )
      ),
      context: fc.oneof(
        fc.constant({}),
        fc.record(
          {
            personas: fc.record(
              {
                computation_class: fc.constantFrom('audience', 'computed_trait', 'journey_step', 'trait', ''),
                computation_key: fc.oneof(fc.constantFrom('vip_users', 'ltv'), awkwardStrings)
              },
              { requiredKeys: [] }
            ),
            traits: properties
          },
          { requiredKeys: [] }
        )
      ),
      groupId: maybeId,
      previousId: maybeId,
      name: fc.option(awkwardStrings, { nil: undefined })
    },
    { requiredKeys: ['type'] }
  )
  .map((event) => JSON.parse(JSON.stringify(event)) as Record<string, unknown>)
