import {
  compact,
  setOwn,
  type InferPayload,
  type productProperties,
  toCountryCode,
  toCurrencyCode,
  toE164,
  toUtcTimestamp
} from '@open-actions/core'
import type { JSONLikeObject } from '@segment/actions-core'
import { PayloadValidationError } from '@segment/actions-core'
import type { InsiderAttributes, InsiderEvent, InsiderIdentifiers } from './insider-api'
import type { attributeFields, contextFields, identifierFields } from './insider-fields'

/** An optional value that could not be read as Insider takes it: left out of the request, and said so in the result. */
export interface LeftOut {
  readonly field: string
  readonly value: unknown
  readonly reason: string
}

/** Collects what a mapping left out, for the action's result. */
export type Notes = LeftOut[]

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

/** The email as Insider takes it, or undefined (and a note) when it is not one. */
function readEmail(value: string | undefined, field: string, notes: Notes): string | undefined {
  if (value === undefined || value === '') return undefined
  const trimmed = value.trim()
  if (EMAIL.test(trimmed)) return trimmed
  notes.push({ field, value, reason: 'not an email address' })
  return undefined
}

/** The phone in E.164, or undefined (and a note) when its country code cannot be known. */
function readPhone(value: string | undefined, field: string, notes: Notes): string | undefined {
  if (value === undefined || value === '') return undefined
  const phone = toE164(value)
  if (phone === undefined)
    notes.push({ field, value, reason: 'not an E.164 phone number (+ and the country code), and not readable as one' })
  return phone
}

export type IdentifierPayload = InferPayload<typeof identifierFields>

/**
 * Insider's identifiers, per the seed: userId → uuid, anonymousId → custom `segment_anonymous_id`, email and phone when
 * treated as identifiers (a malformed one is left out, with a note), and the user's own custom identifiers.
 */
export function buildIdentifiers(payload: IdentifierPayload, notes: Notes): InsiderIdentifiers {
  const custom: Record<string, string | number> = {}
  if (payload.segment_anonymous_id) custom.segment_anonymous_id = payload.segment_anonymous_id
  for (const [key, value] of Object.entries(payload.custom_identifiers ?? {})) {
    if (typeof value === 'string' || typeof value === 'number') custom[key] = value
    else throw new PayloadValidationError(`custom_identifiers.${key} must be a string or a number`)
  }
  return compact({
    uuid: payload.uuid,
    email: payload.email_as_identifier !== false ? readEmail(payload.email, 'identifiers.email', notes) : undefined,
    phone_number:
      payload.phone_number_as_identifier !== false
        ? readPhone(payload.phone, 'identifiers.phone_number', notes)
        : undefined,
    custom: Object.keys(custom).length > 0 ? custom : undefined
  })
}

/** User attributes as the actions collect them: an identify's fields, or a track's `user_attributes` (a subset). */
export type UserAttributesInput = Partial<InferPayload<typeof attributeFields>> &
  Pick<IdentifierPayload, 'email' | 'phone'>

/**
 * Insider's predefined attributes (the seed's table), each read where the meaning is unambiguous: a country name →
 * its ISO code, a birthday with an offset → UTC, `en-US` → `en_US`. What cannot be read is left out, with a note.
 */
export function buildAttributes(input: UserAttributesInput, notes: Notes, custom?: JSONLikeObject): InsiderAttributes {
  let birthday: string | undefined
  if (input.birthday !== undefined && input.birthday !== '') {
    birthday = toUtcTimestamp(input.birthday)
    if (birthday === undefined)
      notes.push({
        field: 'attributes.birthday',
        value: input.birthday,
        reason: 'not an ISO 8601 date or date-time (e.g. 1990-04-12 or 1990-04-12T10:00:00+03:00)'
      })
  }
  let country: string | undefined
  if (input.country !== undefined && input.country !== '') {
    country = toCountryCode(input.country)
    if (country === undefined)
      notes.push({
        field: 'attributes.country',
        value: input.country,
        reason: 'not an ISO 3166-1 alpha-2 code, nor a country name that names one country'
      })
  }
  return compact({
    email: readEmail(input.email, 'attributes.email', notes),
    phone_number: readPhone(input.phone, 'attributes.phone_number', notes),
    name: input.first_name,
    surname: input.last_name,
    gender: input.gender,
    age: input.age,
    birthday,
    language: input.language?.replace(/-/g, '_'),
    city: input.city,
    country,
    email_optin: input.email_optin,
    sms_optin: input.sms_optin,
    whatsapp_optin: input.whatsapp_optin,
    gdpr_optin: input.gdpr_optin,
    custom: custom && Object.keys(custom).length > 0 ? custom : undefined
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

type EventParams = NonNullable<InsiderEvent['event_params']>
type StandardParams = Omit<EventParams, 'custom'>

const asString = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : undefined
const asNumber = (value: unknown): number | undefined => {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
  return typeof number === 'number' && Number.isFinite(number) ? number : undefined
}
const asInteger = (value: unknown): number | undefined => {
  const number = asNumber(value)
  return number !== undefined && Number.isInteger(number) ? number : undefined
}

/**
 * Segment properties that have an Insider standard parameter (the seed's tables and Insider's list), each with how
 * its value is read. A value that cannot be read that way (a quantity of 1.5, a currency "dollars") is not lost: it
 * travels as a custom parameter under its own name.
 */
const STANDARD: Readonly<Record<string, (value: unknown) => StandardParams | undefined>> = {
  product_id: (value) => wrap('product_id', asString(value)),
  name: (value) => wrap('name', typeof value === 'string' && value !== '' ? value : undefined),
  category: (value) =>
    typeof value === 'string' && value !== ''
      ? { taxonomy: [value] }
      : Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string')
        ? { taxonomy: value as string[] }
        : undefined,
  price: (value) => {
    const price = asNumber(value)
    return price === undefined ? undefined : { unit_price: price, unit_sale_price: price }
  },
  quantity: (value) => wrap('quantity', asInteger(value)),
  currency: (value) => wrap('currency', typeof value === 'string' ? toCurrencyCode(value) : undefined),
  url: (value) => wrap('url', typeof value === 'string' && value !== '' ? value : undefined),
  image_url: (value) => wrap('product_image_url', typeof value === 'string' && value !== '' ? value : undefined),
  variant: (value) => wrap('variant_id', asString(value)),
  shipping: (value) => wrap('shipping_cost', asNumber(value)),
  referrer: (value) => wrap('referrer', typeof value === 'string' && value !== '' ? value : undefined),
  user_agent: (value) => wrap('user_agent', typeof value === 'string' && value !== '' ? value : undefined)
}

function wrap<Key extends keyof StandardParams>(
  key: Key,
  value: StandardParams[Key] | undefined
): StandardParams | undefined {
  return value === undefined ? undefined : ({ [key]: value } as StandardParams)
}

/**
 * Every property of an event as Insider event parameters, none left behind: properties with a standard Insider
 * parameter go there (unless one is set already), every other property, and any standard one whose value does not
 * fit, goes to `custom` under its own name. `fields` are values the action's own fields mapped for a property (the
 * order's currency, the list's category), read the same way in its place; `carried` names properties that fields send
 * otherwise (an order's products), so nothing is sent twice; `standard` sets parameters outright (the group id).
 */
export function eventParams(
  properties: JSONLikeObject | undefined,
  options: {
    readonly fields?: Readonly<Record<string, unknown>>
    readonly carried?: readonly string[]
    readonly standard?: StandardParams
  } = {}
): EventParams {
  const params: Record<string, unknown> = {}
  const given = options.standard as Readonly<Record<string, unknown>> | undefined
  if (given !== undefined)
    for (const key of Object.keys(given)) {
      const value = given[key]
      if (value !== undefined) params[key] = value
    }
  let custom: Record<string, unknown> | undefined
  const fields = options.fields
  const carried = options.carried ?? []
  if (fields !== undefined) for (const key of Object.keys(fields)) custom = addParam(params, custom, key, fields[key])
  if (properties !== undefined)
    for (const key of Object.keys(properties)) {
      if ((fields !== undefined && hasOwn(fields, key)) || carried.includes(key)) continue
      custom = addParam(params, custom, key, properties[key])
    }
  if (custom !== undefined) params.custom = custom
  return params as EventParams
}

const hasOwn = (object: object, key: string) => Object.prototype.hasOwnProperty.call(object, key)

/**
 * One property into `params`: as the standard parameter(s) its name has when its value reads as one and none of them
 * is set yet, else into `custom` under its own name (created on first use, and returned). Only STANDARD's own keys
 * name standard parameters: a property called `toString` or `constructor` is a custom one like any other.
 */
function addParam(
  params: Record<string, unknown>,
  custom: Record<string, unknown> | undefined,
  key: string,
  value: unknown
): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return custom
  const read = hasOwn(STANDARD, key) ? STANDARD[key]?.(value) : undefined
  if (read !== undefined && !Object.keys(read).some((param) => param in params)) {
    Object.assign(params, read)
    return custom
  }
  const target = custom ?? {}
  setOwn(target, key, value)
  return target
}

/** The page and device an event came from (Segment context), Insider's standard parameters for them. */
export type ContextPayload = InferPayload<typeof contextFields>

/** `url`, `referrer` and `user_agent` from the context, where the event's own properties have none. */
export function contextParams(payload: ContextPayload): StandardParams {
  return compact({ url: payload.page_url, referrer: payload.referrer, user_agent: payload.user_agent })
}

/** Context params that the event's properties do not already give. */
export function withContext(params: EventParams, context: StandardParams): EventParams {
  const merged: Record<string, unknown> = {}
  const extra = context as Readonly<Record<string, unknown>>
  for (const key of Object.keys(extra)) if (!(key in params)) merged[key] = extra[key]
  const own = params as Readonly<Record<string, unknown>>
  for (const key of Object.keys(own)) setOwn(merged, key, own[key])
  return merged as EventParams
}

/** One Insider event with its parameters (none when it has none). */
export function insiderEvent(name: string, timestamp: string, params: EventParams): InsiderEvent {
  const eventParams = compact(params)
  const event: InsiderEvent = { event_name: name, timestamp: toInsiderTimestamp(timestamp) }
  if (Object.keys(eventParams).length > 0) event.event_params = eventParams
  return event
}

export type ProductPayload = InferPayload<typeof productProperties>

/**
 * An event about one product: the product's properties read as for any event (product_id, category → taxonomy,
 * name, price → unit_price and unit_sale_price, quantity, url, image_url → product_image_url, variant → variant_id;
 * the rest, e.g. sku, brand, coupon, position, as custom), then the event's shared parameters. Where both have a custom
 * key (a product coupon and an order coupon), the product's value is the one for that product's event.
 */
export function productEvent(
  name: string,
  timestamp: string,
  product: ProductPayload | undefined,
  shared: EventParams
): InsiderEvent {
  const own = eventParams(product as JSONLikeObject | undefined)
  const params: Record<string, unknown> = {}
  const sharedParams = shared as Readonly<Record<string, unknown>>
  const ownParams = own as Readonly<Record<string, unknown>>
  for (const key of Object.keys(sharedParams)) if (key !== 'custom') params[key] = sharedParams[key]
  for (const key of Object.keys(ownParams)) if (key !== 'custom') params[key] = ownParams[key]
  const custom = { ...shared.custom, ...own.custom }
  if (Object.keys(custom).length > 0) params.custom = custom
  return insiderEvent(name, timestamp, params as EventParams)
}
