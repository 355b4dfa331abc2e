import { compact } from '@open-actions/core'
import type { JSONLikeObject } from '@segment/actions-core'
import { PayloadValidationError } from '@segment/actions-core'
import type { InsiderEvent, InsiderIdentifiers } from './insider-api'

export interface IdentifierPayload {
  uuid?: string
  segment_anonymous_id?: string
  email_as_identifier?: boolean
  phone_number_as_identifier?: boolean
  email?: string
  phone?: string
  custom_identifiers?: JSONLikeObject
}

/** Insider's identifiers (validated later by `insiderUserSchema`: E.164 phone, email shape). */
export function buildIdentifiers(payload: IdentifierPayload): InsiderIdentifiers {
  const custom: Record<string, string | number> = {}
  if (payload.segment_anonymous_id) custom.segment_anonymous_id = payload.segment_anonymous_id
  for (const [key, value] of Object.entries(payload.custom_identifiers ?? {})) {
    if (typeof value === 'string' || typeof value === 'number') custom[key] = value
    else throw new PayloadValidationError(`custom_identifiers.${key} must be a string or a number`)
  }
  return compact({
    uuid: payload.uuid,
    email: payload.email_as_identifier !== false ? payload.email : undefined,
    phone_number: payload.phone_number_as_identifier !== false ? payload.phone : undefined,
    custom: Object.keys(custom).length > 0 ? custom : undefined
  })
}

/** `Order Completed` → `order_completed`: lower case, spaces to underscores (Insider event naming). */
export function toInsiderEventName(name: string): string {
  return name.trim().toLowerCase().split(/\s+/).join('_')
}

/** Insider wants RFC 3339; Segment timestamps are ISO 8601, normalised here to UTC with `Z`. */
export function toInsiderTimestamp(value: string, field = 'timestamp'): string {
  const date = new Date(value)
  if (Number.isNaN(date.getTime()))
    throw new PayloadValidationError(
      `${field} must be a date-time such as 2024-05-01T12:00:00Z; got ${JSON.stringify(value)}`
    )
  return date.toISOString().replace(/\.000Z$/, 'Z')
}

export interface ProductPayload {
  product_id?: string
  sku?: string
  category?: string
  name?: string
  brand?: string
  variant?: string
  price?: number
  quantity?: number
  coupon?: string
  position?: number
  url?: string
  image_url?: string
}

type EventParams = NonNullable<InsiderEvent['event_params']>

/**
 * Ecommerce v2 product → Insider standard params, per the seed: product_id, category → taxonomy, name,
 * price → unit_price and unit_sale_price, image_url → product_image_url, url, quantity; variant → variant_id.
 */
export function productParams(product: ProductPayload | undefined): EventParams {
  if (!product) return {}
  // Product properties without a standard parameter travel as custom parameters of that product's event.
  const extras = compact({ sku: product.sku, brand: product.brand, coupon: product.coupon, position: product.position })
  return compact({
    custom: Object.keys(extras).length > 0 ? extras : undefined,
    product_id: product.product_id,
    name: product.name,
    taxonomy: product.category ? [product.category] : undefined,
    unit_price: product.price,
    unit_sale_price: product.price,
    quantity: product.quantity,
    url: product.url,
    product_image_url: product.image_url,
    variant_id: product.variant
  })
}

/** Segment properties that a standard Insider parameter (or the event itself) already carries. */
const STANDARD_PROPERTY_KEYS = new Set([
  'product_id',
  'name',
  'category',
  'price',
  'quantity',
  'url',
  'image_url',
  'variant',
  'currency',
  'products',
  'cart_id',
  'order_id',
  'shipping'
])

/** Properties without a standard Insider parameter, as custom event parameters. */
export function customParams(
  properties: JSONLikeObject | undefined,
  alsoStandard: readonly string[] = []
): Record<string, unknown> | undefined {
  const custom: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(properties ?? {})) {
    if (STANDARD_PROPERTY_KEYS.has(key) || alsoStandard.includes(key) || value === undefined || value === null) continue
    custom[key] = value
  }
  return Object.keys(custom).length > 0 ? custom : undefined
}

/**
 * One Insider event. `custom` parameters of the event and of its product are merged; where both have a key
 * (a product coupon and an order coupon) the product's value is the one for that product's event.
 */
export function insiderEvent(
  name: string,
  timestamp: string,
  params: EventParams,
  productCustom?: Record<string, unknown>
): InsiderEvent {
  const custom = { ...(params.custom ?? {}), ...(productCustom ?? {}) }
  const eventParams = compact({ ...params, custom: Object.keys(custom).length > 0 ? custom : undefined })
  return {
    event_name: name,
    timestamp: toInsiderTimestamp(timestamp),
    ...(Object.keys(eventParams).length > 0 ? { event_params: eventParams } : {})
  }
}

/** Drops undefined values so the request carries only what the event had. */
/** An event about one product: the product's standard params, the shared params, and both custom maps. */
export function productEvent(
  name: string,
  timestamp: string,
  product: ProductPayload | undefined,
  shared: EventParams
): InsiderEvent {
  const { custom: productCustom, ...standard } = productParams(product)
  return insiderEvent(name, timestamp, { ...standard, ...compact(shared) }, productCustom)
}
