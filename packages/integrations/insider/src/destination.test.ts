import { describe, expect, it } from '@jest/globals'
import type { SegmentEvent } from '@segment/actions-core'
import { InvalidAuthenticationError, PayloadValidationError } from '@segment/actions-core'
import { testAuthentication, VendorRetryableError } from '@open-actions/core'
import {
  captureRequests,
  events,
  onlyRequest,
  pickHeaders,
  runPresets,
  runPresetsBatch,
  useStrictNock
} from '@open-actions/testing'
import nock from 'nock'
import badRequest from './__fixtures__/bad-request.json'
import partialFailure from './__fixtures__/upsert-partial-failure.json'
import success from './__fixtures__/upsert-success.json'
import tooManyRequests from './__fixtures__/too-many-requests.json'
import { destination } from './destination'

useStrictNock()

const HOST = 'https://unification.useinsider.com'
const settings = { account_name: 'MyStore', ucd_key: 'ucd_secret_key' }
const anonymousOnly = { uuid: 'user-1234', custom: { segment_anonymous_id: 'anon-5678' } }
const TS = '2024-05-01T12:00:00Z'

async function upsertBodyFor(event: SegmentEvent) {
  const requests = captureRequests(nock(HOST).post('/api/user/v1/upsert').reply(200, success))
  await runPresets(destination, event, settings)
  const request = onlyRequest(requests)
  expect(request.url).toBe(`${HOST}/api/user/v1/upsert`)
  return request
}

describe('Insider presets through Destination.onEvent', () => {
  it('identify → identifiers and the seed’s attribute mapping, with Insider’s headers', async () => {
    const request = await upsertBodyFor(events.identifyEvent())
    expect(
      pickHeaders(request, ['x-partner-name', 'x-request-token', 'x-platform-name', 'content-type'])
    ).toStrictEqual({
      'x-partner-name': 'mystore',
      'x-request-token': 'ucd_secret_key',
      'x-platform-name': 'segment',
      'content-type': 'application/json'
    })
    expect(request.body).toStrictEqual({
      platform: 'segment',
      users: [
        {
          identifiers: {
            uuid: 'user-1234',
            email: 'jane.doe@example.com',
            phone_number: '+14155550100',
            custom: { segment_anonymous_id: 'anon-5678' }
          },
          attributes: {
            email: 'jane.doe@example.com',
            phone_number: '+14155550100',
            name: 'Jane',
            surname: 'Doe',
            gender: 'female',
            age: 34,
            birthday: '1990-04-12T00:00:00Z',
            language: 'en_US',
            city: 'San Francisco',
            country: 'US'
          },
          not_append: true
        }
      ]
    })
  })

  it('identify → opt-ins as booleans, a date-only birthday in UTC, and email/phone identifiers only when treated as such', async () => {
    const event = events.identifyEvent({
      traits: { birthday: '1990-04-12', emailOptin: true, smsOptin: false, whatsappOptin: true, gdprOptin: false }
    })
    const subscriptions = [
      {
        partnerAction: 'updateUserProfile',
        subscribe: 'type = "identify"',
        mapping: {
          ...(destination.presets?.[0]?.type === 'automatic' ? destination.presets[0].mapping : {}),
          email_as_identifier: false,
          phone_number_as_identifier: false,
          append_arrays: true,
          custom_attributes: { plan: { '@path': '$.traits.plan' } }
        }
      }
    ]
    const requests = captureRequests(nock(HOST).post('/api/user/v1/upsert').reply(200, success))
    await runPresets(destination, event, settings, subscriptions)
    const [user] = (onlyRequest(requests).body as { users: Record<string, Record<string, unknown>>[] }).users
    expect(user?.identifiers).toStrictEqual(anonymousOnly)
    expect(user?.attributes).toMatchObject({
      birthday: '1990-04-12T00:00:00Z',
      email_optin: true,
      sms_optin: false,
      whatsapp_optin: true,
      gdpr_optin: false,
      custom: { plan: 'pro' }
    })
    expect(user?.not_append).toBe(false)
  })

  it('identify → the user’s own custom identifiers next to segment_anonymous_id', async () => {
    const subscriptions = [
      {
        partnerAction: 'updateUserProfile',
        subscribe: 'type = "identify"',
        mapping: {
          ...(destination.presets?.[0]?.type === 'automatic' ? destination.presets[0].mapping : {}),
          custom_identifiers: { crm_id: { '@path': '$.traits.crm_id' } }
        }
      }
    ]
    const requests = captureRequests(nock(HOST).post('/api/user/v1/upsert').reply(200, success))
    await runPresets(destination, events.identifyEvent({ traits: { crm_id: 'crm-77' } }), settings, subscriptions)
    const [user] = (onlyRequest(requests).body as { users: Record<string, Record<string, unknown>>[] }).users
    expect(user?.identifiers?.custom).toStrictEqual({ segment_anonymous_id: 'anon-5678', crm_id: 'crm-77' })
  })

  it('Product Viewed → product_detail_page_view with the seed’s parameter mapping', async () => {
    const request = await upsertBodyFor(
      events.productViewedEvent({ context: { traits: { email: 'jane.doe@example.com' } } })
    )
    expect(request.body).toStrictEqual({
      platform: 'segment',
      users: [
        {
          identifiers: { ...anonymousOnly, email: 'jane.doe@example.com' },
          events: [
            {
              event_name: 'product_detail_page_view',
              timestamp: TS,
              event_params: {
                product_id: '507f1f77bcf86cd799439011',
                name: 'Monopoly: 3rd Edition',
                taxonomy: ['Games'],
                unit_price: 18.99,
                unit_sale_price: 18.99,
                quantity: 1,
                currency: 'USD',
                url: 'https://www.example.com/product/path',
                product_image_url: 'https://www.example.com/product/path.jpg',
                variant_id: '200 pieces',
                custom: { sku: '45790-32', brand: 'Hasbro', coupon: 'MAYDEALS', position: 1, value: 18.99 }
              }
            }
          ]
        }
      ]
    })
  })

  it('Product Added / Removed → item_added_to_cart / item_removed_from_cart', async () => {
    for (const [event, name] of [
      [events.productAddedEvent(), 'item_added_to_cart'],
      [events.productRemovedEvent(), 'item_removed_from_cart']
    ] as const) {
      const request = await upsertBodyFor(event)
      const body = request.body as {
        users: { events: { event_name: string; event_params: Record<string, unknown> }[] }[]
      }
      expect(body.users[0]?.events.map((insiderEvent) => insiderEvent.event_name)).toStrictEqual([name])
      expect(body.users[0]?.events[0]?.event_params).toMatchObject({
        product_id: '507f1f77bcf86cd799439011',
        unit_sale_price: 18.99,
        currency: 'USD'
      })
    }
  })

  it('Product List Viewed → listing_page_view with the list category as taxonomy', async () => {
    const request = await upsertBodyFor(events.productListViewedEvent())
    expect((request.body as { users: unknown[] }).users).toStrictEqual([
      {
        identifiers: anonymousOnly,
        events: [
          {
            event_name: 'listing_page_view',
            timestamp: TS,
            event_params: { taxonomy: ['Deals'], custom: { list_id: 'hot_deals_1' } }
          }
        ]
      }
    ])
  })

  it('Cart Viewed → one cart_page_view per product, event_group_id = cart_id', async () => {
    const request = await upsertBodyFor(events.cartViewedEvent())
    const shared = { currency: 'USD', event_group_id: 'skdjsidjsdkdj29j' }
    expect((request.body as { users: unknown[] }).users).toStrictEqual([
      {
        identifiers: anonymousOnly,
        events: [
          {
            event_name: 'cart_page_view',
            timestamp: TS,
            event_params: {
              ...shared,
              product_id: '507f1f77bcf86cd799439011',
              name: 'Monopoly: 3rd Edition',
              taxonomy: ['Games'],
              unit_price: 18.99,
              unit_sale_price: 18.99,
              quantity: 1,
              url: 'https://www.example.com/product/path',
              product_image_url: 'https://www.example.com/product/path.jpg',
              variant_id: '200 pieces',
              custom: { sku: '45790-32', brand: 'Hasbro', coupon: 'MAYDEALS', position: 1 }
            }
          },
          {
            event_name: 'cart_page_view',
            timestamp: TS,
            event_params: {
              ...shared,
              product_id: '505bd76785ebb509fc183733',
              name: 'Uno Card Game',
              taxonomy: ['Games'],
              unit_price: 3,
              unit_sale_price: 3,
              quantity: 2,
              custom: { sku: '46493-32', brand: 'Mattel', position: 2 }
            }
          }
        ]
      }
    ])
  })

  it('Checkout Started and Checkout Step Viewed → checkout_page_view grouped by checkout_id, else order_id', async () => {
    const started = await upsertBodyFor(events.checkoutStartedEvent())
    const startedEvents = (
      started.body as { users: { events: { event_name: string; event_params: Record<string, unknown> }[] }[] }
    ).users[0]?.events
    expect(startedEvents?.map((event) => [event.event_name, event.event_params.event_group_id])).toStrictEqual([
      ['checkout_page_view', 'chk-0001'],
      ['checkout_page_view', 'chk-0001']
    ])
    expect(startedEvents?.[1]?.event_params).toStrictEqual({
      product_id: '505bd76785ebb509fc183733',
      name: 'Uno Card Game',
      taxonomy: ['Games'],
      unit_price: 3,
      unit_sale_price: 3,
      quantity: 2,
      currency: 'USD',
      event_group_id: 'chk-0001',
      shipping_cost: 3,
      custom: {
        affiliation: 'Google Store',
        value: 30,
        revenue: 25,
        tax: 2,
        discount: 2.5,
        coupon: 'hasbros',
        sku: '46493-32',
        brand: 'Mattel',
        position: 2
      }
    })
    const stepViewed = await upsertBodyFor(
      events.trackEvent('Checkout Step Viewed', { order_id: 'o-9', step: 2, currency: 'EUR' })
    )
    expect((stepViewed.body as { users: unknown[] }).users).toStrictEqual([
      {
        identifiers: anonymousOnly,
        events: [
          {
            event_name: 'checkout_page_view',
            timestamp: TS,
            event_params: { currency: 'EUR', event_group_id: 'o-9', custom: { step: 2 } }
          }
        ]
      }
    ])
  })

  it('Order Completed → one confirmation_page_view per product, event_group_id = order_id, order params attached', async () => {
    const request = await upsertBodyFor(events.orderCompletedEvent())
    const insiderEvents =
      (request.body as { users: { events: { event_name: string; event_params: Record<string, unknown> }[] }[] })
        .users[0]?.events ?? []
    expect(insiderEvents).toHaveLength(3)
    const orderCustom = {
      checkout_id: 'fksdjfsdjfisjf9sdfjsd9f',
      affiliation: 'Google Store',
      subtotal: 22.5,
      total: 27.5,
      revenue: 25,
      tax: 2,
      discount: 2.5,
      coupon: 'hasbros'
    }
    expect(insiderEvents[2]).toStrictEqual({
      event_name: 'confirmation_page_view',
      timestamp: TS,
      event_params: {
        product_id: '60a1c2b3d4e5f60718293a4b',
        name: 'Rubik’s Cube',
        taxonomy: ['Puzzles'],
        unit_price: 9.5,
        unit_sale_price: 9.5,
        quantity: 1,
        currency: 'USD',
        event_group_id: '50314b8e9bcf000000000000',
        shipping_cost: 3,
        custom: { ...orderCustom, sku: '11111-01', position: 3 }
      }
    })
    expect(
      insiderEvents.map((event) => [event.event_name, event.event_params.event_group_id, event.event_params.product_id])
    ).toStrictEqual([
      ['confirmation_page_view', '50314b8e9bcf000000000000', '507f1f77bcf86cd799439011'],
      ['confirmation_page_view', '50314b8e9bcf000000000000', '505bd76785ebb509fc183733'],
      ['confirmation_page_view', '50314b8e9bcf000000000000', '60a1c2b3d4e5f60718293a4b']
    ])
    // The product's own coupon wins over the order's for that product's event.
    expect(insiderEvents[0]?.event_params.custom).toMatchObject({ coupon: 'MAYDEALS' })
  })

  it('User Registered → sign_up_confirmation; any other track → its snake-cased name with custom parameters', async () => {
    const registered = await upsertBodyFor(events.trackEvent('User Registered', { method: 'email' }))
    expect((registered.body as { users: unknown[] }).users).toStrictEqual([
      {
        identifiers: anonymousOnly,
        events: [{ event_name: 'sign_up_confirmation', timestamp: TS, event_params: { custom: { method: 'email' } } }]
      }
    ])
    const custom = await upsertBodyFor(events.trackEvent('Video Played  Fully', { video_id: 'v-1', seconds: 30 }))
    expect((custom.body as { users: unknown[] }).users).toStrictEqual([
      {
        identifiers: anonymousOnly,
        events: [
          {
            event_name: 'video_played_fully',
            timestamp: TS,
            event_params: { custom: { video_id: 'v-1', seconds: 30 } }
          }
        ]
      }
    ])
  })

  it('sends exactly one Insider request per Segment e-commerce event (no generic Track Event duplicate)', async () => {
    for (const event of [
      events.orderCompletedEvent(),
      events.cartViewedEvent(),
      events.productViewedEvent(),
      events.checkoutStartedEvent()
    ]) {
      await upsertBodyFor(event)
    }
  })
})

describe('Insider validation', () => {
  it('refuses a phone that is not E.164, naming the field, and sends nothing', async () => {
    await expect(
      runPresets(destination, events.identifyEvent({ traits: { phone: '0555 555 55 55' } }), settings)
    ).rejects.toThrow(PayloadValidationError)
    await expect(
      runPresets(destination, events.identifyEvent({ traits: { phone: '0555 555 55 55' } }), settings)
    ).rejects.toThrow(/^Insider user: identifiers\.phone_number must be an E\.164 phone number/)
  })

  it('refuses a malformed email and a non-ISO country, naming each field', async () => {
    await expect(
      runPresets(destination, events.identifyEvent({ traits: { email: 'jane@' } }), settings)
    ).rejects.toThrow(/identifiers\.email must be an email address/)
    await expect(
      runPresets(destination, events.identifyEvent({ traits: { address: { country: 'USA' } } }), settings)
    ).rejects.toThrow('Insider user: attributes.country must be an ISO 3166-1 alpha-2 country code such as "US"')
  })

  it('requires the purchase fields Insider requires for confirmation_page_view and cart_page_view', async () => {
    await expect(
      runPresets(
        destination,
        events.trackEvent('Cart Viewed', { cart_id: 'c-1', products: [{ product_id: 'p', price: 3 }] }),
        settings
      )
    ).rejects.toThrow('Insider user: events[0].event_params.currency is required for cart_page_view events')
  })
})

describe('Insider responses', () => {
  it('maps 403 to an authentication error, 429 and 5xx to retryable, 400 to a non-retryable error with Insider’s message', async () => {
    nock(HOST).post('/api/user/v1/upsert').reply(403, { error: 'partner not found' })
    await expect(runPresets(destination, events.trackEvent('X'), settings)).rejects.toBeInstanceOf(
      InvalidAuthenticationError
    )
    nock(HOST).post('/api/user/v1/upsert').reply(429, tooManyRequests)
    await expect(runPresets(destination, events.trackEvent('X'), settings)).rejects.toThrow(
      new VendorRetryableError('Insider answered HTTP 429: rejected: too many requests', 429)
    )
    nock(HOST).post('/api/user/v1/upsert').reply(500, {})
    await expect(runPresets(destination, events.trackEvent('X'), settings)).rejects.toBeInstanceOf(VendorRetryableError)
    nock(HOST).post('/api/user/v1/upsert').reply(400, badRequest)
    await expect(runPresets(destination, events.trackEvent('X'), settings)).rejects.toThrow(
      'Insider rejected the request (HTTP 400): users must be defined: bad request'
    )
  })

  it('never counts a user as delivered when a 200 reports it failed', async () => {
    nock(HOST)
      .post('/api/user/v1/upsert')
      .reply(200, {
        data: {
          successful: {},
          fail: { count: 1, errors: { 'users.0.events.0.event_params.*.required': ['currency'] } }
        }
      })
    await expect(runPresets(destination, events.trackEvent('X'), settings)).rejects.toThrow(
      'Insider refused the record: users.0.events.0.event_params.*.required: ["currency"]'
    )
  })

  it('checks credentials with the read-only profile call', async () => {
    nock(HOST)
      .post('/api/user/v1/profile')
      .matchHeader('x-request-token', 'ucd_secret_key')
      .matchHeader('x-partner-name', 'mystore')
      .reply(200, { data: {} })
    await expect(testAuthentication(destination, settings)).resolves.toStrictEqual({ ok: true })
    nock(HOST).post('/api/user/v1/profile').reply(403, { error: 'forbidden' })
    await expect(testAuthentication(destination, settings)).resolves.toMatchObject({
      ok: false,
      error: { name: 'VendorAuthenticationError', status: 401 }
    })
  })
})

describe('Insider batches through Destination.onBatch', () => {
  it('fails exactly the users a 200 reports as failed', async () => {
    const requests = captureRequests(nock(HOST).post('/api/user/v1/upsert').reply(200, partialFailure))
    const results = await runPresetsBatch(
      destination,
      [events.trackEvent('A'), events.trackEvent('B'), events.trackEvent('C')],
      settings
    )
    expect((onlyRequest(requests).body as { users: unknown[] }).users).toHaveLength(3)
    // Only Track Event matches these events; the other presets answer "not subscribed" without a multistatus.
    const statuses = results.flatMap((result) => result.multistatus ?? [])
    expect(statuses.map((entry) => entry.status)).toStrictEqual([200, 400, 200])
    expect(statuses[1]).toMatchObject({
      errormessage:
        'Insider refused the record: users.1.events.0.event_params.*.required: ["event_params.currency is required for purchase"]'
    })
  })

  it('splits at 1,000 users per request', async () => {
    const requests = captureRequests(nock(HOST).post('/api/user/v1/upsert').times(2).reply(200, success))
    const batch = Array.from({ length: 1001 }, (_, index) => events.identifyEvent({ userId: `u-${index}` }))
    const results = await runPresetsBatch(destination, batch, settings)
    expect(requests.map((request) => (request.body as { users: unknown[] }).users.length)).toStrictEqual([1000, 1])
    const delivered = results.flatMap((result) => result.multistatus ?? []).filter((entry) => entry.status === 200)
    expect(delivered).toHaveLength(1001)
  })
})
