import type { InputField } from '@segment/actions-core'
import { defineFields } from './types'

/*
 * The shared field library. Every action composes its fields from these (spreading and overriding a
 * label or default where the vendor needs it), so an identity or Ecommerce field is declared once.
 * Defaults follow the Segment spec (segment.com/docs/connections/spec).
 */

// ── Segment identity and common fields ─────────────────────────────────────────────────────────────
export const identityFields = defineFields({
  user_id: {
    label: 'User ID',
    description: 'The ID your product uses for this user (Segment `userId`).',
    type: 'string',
    default: { '@path': '$.userId' }
  },
  anonymous_id: {
    label: 'Anonymous ID',
    description: 'The pseudo-identifier for a user who has not been identified yet (Segment `anonymousId`).',
    type: 'string',
    default: { '@path': '$.anonymousId' }
  },
  email: {
    label: 'Email',
    description: 'The user’s email address.',
    type: 'string',
    default: {
      '@if': {
        exists: { '@path': '$.traits.email' },
        then: { '@path': '$.traits.email' },
        else: { '@path': '$.context.traits.email' }
      }
    }
  },
  phone: {
    label: 'Phone Number',
    description: 'The user’s phone number, in E.164 format (e.g. +14155550100).',
    type: 'string',
    default: {
      '@if': {
        exists: { '@path': '$.traits.phone' },
        then: { '@path': '$.traits.phone' },
        else: { '@path': '$.context.traits.phone' }
      }
    }
  }
})

export const eventFields = defineFields({
  event_name: {
    label: 'Event Name',
    description: 'The name of the event (Segment `event`).',
    type: 'string',
    required: true,
    default: { '@path': '$.event' }
  },
  timestamp: {
    label: 'Timestamp',
    description: 'When the event happened, in ISO 8601.',
    type: 'datetime',
    required: true,
    default: { '@path': '$.timestamp' }
  },
  message_id: {
    label: 'Message ID',
    description: 'The Segment `messageId`, which identifies this event for deduplication.',
    type: 'string',
    default: { '@path': '$.messageId' }
  },
  properties: {
    label: 'Properties',
    description: 'The event’s properties.',
    type: 'object',
    default: { '@path': '$.properties' }
  },
  traits: {
    label: 'Traits',
    description: 'The user’s traits.',
    type: 'object',
    default: { '@path': '$.traits' }
  },
  event_type: {
    label: 'Event Type',
    description: 'The Segment call type: identify, track, page, screen, group or alias.',
    type: 'string',
    default: { '@path': '$.type' }
  }
})

// ── Ecommerce v2 (segment.com/docs/connections/spec/ecommerce/v2) ────────────────────────────────────
/** The properties of one product in the Ecommerce v2 spec, as a field's `properties`. */
export const productProperties = {
  product_id: { label: 'Product ID', description: 'Database id of the product.', type: 'string' },
  sku: { label: 'SKU', description: 'Stock keeping unit.', type: 'string' },
  category: { label: 'Category', description: 'Product category.', type: 'string' },
  name: { label: 'Name', description: 'Name of the product.', type: 'string' },
  brand: { label: 'Brand', description: 'Brand of the product.', type: 'string' },
  variant: { label: 'Variant', description: 'Variant of the product.', type: 'string' },
  price: { label: 'Price', description: 'Price of the product.', type: 'number' },
  quantity: { label: 'Quantity', description: 'Quantity of the product.', type: 'integer' },
  coupon: { label: 'Coupon', description: 'Coupon code associated with the product.', type: 'string' },
  position: { label: 'Position', description: 'Position in the product list.', type: 'integer' },
  url: { label: 'URL', description: 'URL of the product page.', type: 'string' },
  image_url: { label: 'Image URL', description: 'Image URL of the product.', type: 'string' }
} as const satisfies Record<string, Omit<InputField, 'description'> & { description: string }>

function productMapping(prefix: string) {
  return {
    product_id: { '@path': `${prefix}.product_id` },
    sku: { '@path': `${prefix}.sku` },
    category: { '@path': `${prefix}.category` },
    name: { '@path': `${prefix}.name` },
    brand: { '@path': `${prefix}.brand` },
    variant: { '@path': `${prefix}.variant` },
    price: { '@path': `${prefix}.price` },
    quantity: { '@path': `${prefix}.quantity` },
    coupon: { '@path': `${prefix}.coupon` },
    position: { '@path': `${prefix}.position` },
    url: { '@path': `${prefix}.url` },
    image_url: { '@path': `${prefix}.image_url` }
  }
}

export const ecommerceFields = defineFields({
  /** A single product, from the properties of Product Viewed / Added / Removed. */
  product: {
    label: 'Product',
    description: 'The product the event is about (Ecommerce v2 product properties).',
    type: 'object',
    properties: productProperties,
    default: productMapping('$.properties')
  },
  /** The products of list, cart, checkout and order events. */
  products: {
    label: 'Products',
    description: 'The products of the event (Ecommerce v2 `products[]`).',
    type: 'object',
    multiple: true,
    properties: productProperties,
    default: { '@arrayPath': ['$.properties.products', productMapping('$')] }
  },
  currency: {
    label: 'Currency',
    description: 'ISO 4217 currency code, e.g. USD.',
    type: 'string',
    default: { '@path': '$.properties.currency' }
  },
  cart_id: {
    label: 'Cart ID',
    description: 'The cart the event belongs to.',
    type: 'string',
    default: { '@path': '$.properties.cart_id' }
  },
  list_id: {
    label: 'List ID',
    description: 'The product list being viewed.',
    type: 'string',
    default: { '@path': '$.properties.list_id' }
  },
  list_category: {
    label: 'List Category',
    description: 'The category of the product list being viewed.',
    type: 'string',
    default: { '@path': '$.properties.category' }
  }
})

/** Order and checkout properties (Checkout Started, Order Completed, Order Updated …). */
export const orderFields = defineFields({
  order_id: {
    label: 'Order ID',
    description: 'Order or transaction id.',
    type: 'string',
    default: { '@path': '$.properties.order_id' }
  },
  checkout_id: {
    label: 'Checkout ID',
    description: 'Checkout transaction id.',
    type: 'string',
    default: { '@path': '$.properties.checkout_id' }
  },
  affiliation: {
    label: 'Affiliation',
    description: 'Store or affiliation from which the transaction occurred.',
    type: 'string',
    default: { '@path': '$.properties.affiliation' }
  },
  subtotal: {
    label: 'Subtotal',
    description: 'Order total after discounts, before shipping and taxes.',
    type: 'number',
    default: { '@path': '$.properties.subtotal' }
  },
  total: {
    label: 'Total',
    description: 'Revenue with discounts and coupons added in.',
    type: 'number',
    default: { '@path': '$.properties.total' }
  },
  revenue: {
    label: 'Revenue',
    description: 'Revenue associated with the transaction, excluding shipping and tax.',
    type: 'number',
    default: { '@path': '$.properties.revenue' }
  },
  shipping: {
    label: 'Shipping',
    description: 'Shipping cost of the transaction.',
    type: 'number',
    default: { '@path': '$.properties.shipping' }
  },
  tax: {
    label: 'Tax',
    description: 'Total tax of the transaction.',
    type: 'number',
    default: { '@path': '$.properties.tax' }
  },
  discount: {
    label: 'Discount',
    description: 'Total discount of the transaction.',
    type: 'number',
    default: { '@path': '$.properties.discount' }
  },
  coupon: {
    label: 'Coupon',
    description: 'Transaction coupon redeemed.',
    type: 'string',
    default: { '@path': '$.properties.coupon' }
  },
  currency: {
    label: 'Currency',
    description: 'ISO 4217 currency code of the transaction.',
    type: 'string',
    default: { '@path': '$.properties.currency' }
  }
})

// ── Batching ─────────────────────────────────────────────────────────────────────────────────────────
export function batchingFields(options: {
  readonly maxBatchSize: number
  readonly defaultBatchSize?: number
  readonly enabledByDefault?: boolean
}) {
  return defineFields({
    enable_batching: {
      label: 'Send in Batches',
      description: 'Send several events per request where the vendor API allows it.',
      type: 'boolean',
      default: options.enabledByDefault ?? true
    },
    batch_size: {
      label: 'Batch Size',
      description: `The largest number of events per request (the vendor allows at most ${options.maxBatchSize}).`,
      type: 'integer',
      minimum: 1,
      maximum: options.maxBatchSize,
      default: options.defaultBatchSize ?? options.maxBatchSize,
      unsafe_hidden: true
    }
  })
}

// ── Engage (segment.com/docs/engage/using-engage-data) ────────────────────────────────────────────────
export const engageFields = defineFields({
  computation_key: {
    label: 'Computation Key',
    description: 'The audience or computed trait key (`context.personas.computation_key`).',
    type: 'string',
    required: true,
    default: { '@path': '$.context.personas.computation_key' }
  },
  computation_class: {
    label: 'Computation Class',
    description:
      'What Engage computed: `audience`, `computed_trait` or `journey_step` (`context.personas.computation_class`).',
    type: 'string',
    required: true,
    choices: ['audience', 'computed_trait', 'journey_step'],
    default: { '@path': '$.context.personas.computation_class' }
  },
  traits_or_properties: {
    label: 'Traits or Properties',
    description: 'Where Engage put the value: the identify traits, or the track properties.',
    type: 'object',
    required: true,
    default: {
      '@if': { exists: { '@path': '$.properties' }, then: { '@path': '$.properties' }, else: { '@path': '$.traits' } }
    }
  },
  event_type: {
    label: 'Event Type',
    description: 'The Segment call that carried the computation: identify or track.',
    type: 'string',
    required: true,
    default: { '@path': '$.type' }
  },
  event_name: {
    label: 'Event Name',
    description: 'For track calls: `Audience Entered`, `Audience Exited` or `Trait Computed`.',
    type: 'string',
    default: { '@path': '$.event' }
  }
})
