import { describe, expect, it } from '@jest/globals'
import type { SegmentEvent } from '@segment/actions-core'
import { InvalidAuthenticationError } from '@segment/actions-core'
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
import { INSIDER_LIMITS, upsertBody } from './insider-api'

useStrictNock()

const HOST = 'https://unification.useinsider.com'
const settings = { account_name: 'MyStore', ucd_key: 'ucd_secret_key' }
const anonymousOnly = { uuid: 'user-1234', custom: { segment_anonymous_id: 'anon-5678' } }
const TS = '2024-05-01T12:00:00Z'
// What every factory event carries in its context: the device's user agent and locale.
const UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)'
const trackAttributes = { language: 'en_US' }

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
          attributes: { ...trackAttributes, email: 'jane.doe@example.com' },
          events: [
            {
              event_name: 'product_detail_page_view',
              timestamp: TS,
              event_params: {
                user_agent: UA,
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

  it('Product List Viewed → listing_page_view with the list category as taxonomy, the list and its products as parameters', async () => {
    const request = await upsertBodyFor(events.productListViewedEvent())
    expect((request.body as { users: unknown[] }).users).toStrictEqual([
      {
        identifiers: anonymousOnly,
        attributes: trackAttributes,
        events: [
          {
            event_name: 'listing_page_view',
            timestamp: TS,
            event_params: {
              taxonomy: ['Deals'],
              user_agent: UA,
              custom: { list_id: 'hot_deals_1', products: events.sampleProducts }
            }
          }
        ]
      }
    ])
  })

  it('Cart Viewed → one cart_page_view per product, event_group_id = cart_id', async () => {
    const request = await upsertBodyFor(events.cartViewedEvent())
    const shared = { currency: 'USD', event_group_id: 'skdjsidjsdkdj29j', user_agent: UA }
    expect((request.body as { users: unknown[] }).users).toStrictEqual([
      {
        identifiers: anonymousOnly,
        attributes: trackAttributes,
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
      user_agent: UA,
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
        order_id: '50314b8e9bcf000000000000',
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
        attributes: trackAttributes,
        events: [
          {
            event_name: 'checkout_page_view',
            timestamp: TS,
            event_params: { currency: 'EUR', event_group_id: 'o-9', user_agent: UA, custom: { step: 2 } }
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
        user_agent: UA,
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
        attributes: trackAttributes,
        events: [
          {
            event_name: 'sign_up_confirmation',
            timestamp: TS,
            event_params: { user_agent: UA, custom: { method: 'email' } }
          }
        ]
      }
    ])
    const custom = await upsertBodyFor(events.trackEvent('Video Played  Fully', { video_id: 'v-1', seconds: 30 }))
    expect((custom.body as { users: unknown[] }).users).toStrictEqual([
      {
        identifiers: anonymousOnly,
        attributes: trackAttributes,
        events: [
          {
            event_name: 'video_played_fully',
            timestamp: TS,
            event_params: { user_agent: UA, custom: { video_id: 'v-1', seconds: 30 } }
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
  it('requires the fields Insider documents as required for cart_page_view, naming the field', async () => {
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

  it('refuses a user over 5 MB as JSON with a typed error naming the limit, and sends nothing', async () => {
    const city = 'x'.repeat(INSIDER_LIMITS.maxBytes)
    const failure = runPresets(destination, events.identifyEvent({ traits: { address: { city } } }), settings)
    await expect(failure).rejects.toMatchObject({
      name: 'PayloadValidationError',
      status: 400,
      message: expect.stringMatching(
        /^An Insider upsert request must be at most 5242880 bytes as JSON; this one is 52\d{5}$/
      ) as unknown as string
    })
  })

  it('an upsert holds 1 to 1,000 users: other counts are refused before anything is sent', () => {
    const user = { identifiers: { uuid: 'u-1' }, attributes: { city: 'Paris' } }
    expect(() => upsertBody([])).toThrow('An Insider upsert request holds 1 to 1000 users; this one has 0')
    expect(() => upsertBody(Array.from({ length: 1001 }, () => user))).toThrow(
      'An Insider upsert request holds 1 to 1000 users; this one has 1001'
    )
    expect(upsertBody([user])).toBe(
      '{"users":[{"identifiers":{"uuid":"u-1"},"attributes":{"city":"Paris"}}],"platform":"segment"}'
    )
  })

  it('a batch’s body, put together from the texts its users were sized with, has the bytes JSON.stringify gives', () => {
    const users = [
      { identifiers: { uuid: 'u-1' }, attributes: { city: 'Paris' } },
      { identifiers: { uuid: 'u-"2"\\' }, attributes: { city: 'Zürich ✓ \u2028', custom: { tags: ['a', 1, null] } } }
    ]
    const texts = users.map((item) => JSON.stringify(item))
    expect(upsertBody(users, texts)).toBe(JSON.stringify({ users, platform: 'segment' }))
    expect(upsertBody(users)).toBe(JSON.stringify({ users, platform: 'segment' }))
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

describe('everything the seed says arrives: nothing dropped, nothing refused over an optional value', () => {
  async function userFor(event: SegmentEvent) {
    const requests = captureRequests(nock(HOST).post('/api/user/v1/upsert').reply(200, success))
    const results = await runPresets(destination, event, settings)
    const body = onlyRequest(requests).body as { users: Record<string, unknown>[] }
    expect(body.users).toHaveLength(1)
    return { user: body.users[0], results }
  }

  it('Page → page_view with url, title, referrer and the page’s name (a preset of its own)', async () => {
    expect(destination.presets?.find((preset) => preset.name === 'Page Viewed')).toMatchObject({
      subscribe: 'type = "page"',
      partnerAction: 'pageViewedEvent'
    })
    const { user } = await userFor(
      events.pageEvent({
        category: 'Docs',
        properties: { search: '?plan=pro', referrer: 'https://www.google.com/' },
        context: { page: { url: 'https://example.com/pricing?plan=pro', referrer: 'https://ignored.example/' } }
      })
    )
    expect(user).toStrictEqual({
      identifiers: anonymousOnly,
      attributes: trackAttributes,
      events: [
        {
          event_name: 'page_view',
          timestamp: TS,
          event_params: {
            url: 'https://example.com/pricing',
            referrer: 'https://www.google.com/',
            user_agent: UA,
            custom: {
              path: '/pricing',
              title: 'Pricing',
              search: '?plan=pro',
              page_name: 'Pricing',
              page_category: 'Docs'
            }
          }
        }
      ]
    })
  })

  it('properties named like built-in object members (toString, constructor, valueOf) arrive as custom parameters', async () => {
    const properties = { toString: 't', constructor: 'c', valueOf: 3, hasOwnProperty: true, plan: 'pro' }
    const track = await userFor(events.trackEvent('Plan Chosen', properties))
    expect(track.user?.events).toStrictEqual([
      {
        event_name: 'plan_chosen',
        timestamp: TS,
        event_params: {
          user_agent: UA,
          custom: properties
        }
      }
    ])
  })

  it('Cart Reviewed (the seed’s name) → one cart_page_view per product, like Cart Viewed', async () => {
    const { user } = await userFor(
      events.trackEvent('Cart Reviewed', {
        cart_id: 'cart-9',
        currency: 'EUR',
        products: events.sampleProducts.slice(1, 3)
      })
    )
    expect(user?.events).toStrictEqual(
      ['505bd76785ebb509fc183733', '60a1c2b3d4e5f60718293a4b'].map((productId, index) => ({
        event_name: 'cart_page_view',
        timestamp: TS,
        event_params: expect.objectContaining({
          product_id: productId,
          currency: 'EUR',
          event_group_id: 'cart-9',
          unit_sale_price: [3, 9.5][index]
        })
      }))
    )
  })

  it('Track Event: every property arrives, standard-named ones as Insider standard parameters, the rest under their own names', async () => {
    const properties = {
      name: 'Spring Launch',
      url: 'https://example.com/launch',
      category: 'Campaigns',
      price: 12.5,
      currency: 'usd',
      quantity: 2,
      product_id: 42,
      order_id: 'o-77',
      cart_id: 'c-77',
      shipping: 4.5,
      products: [{ product_id: 'p-1' }],
      campaign: 'spring',
      nested: { a: 1 }
    }
    const { user } = await userFor(events.trackEvent('Launch Watched', properties))
    expect(user?.events).toStrictEqual([
      {
        event_name: 'launch_watched',
        timestamp: TS,
        event_params: {
          name: 'Spring Launch',
          url: 'https://example.com/launch',
          taxonomy: ['Campaigns'],
          unit_price: 12.5,
          unit_sale_price: 12.5,
          currency: 'USD',
          quantity: 2,
          product_id: '42',
          shipping_cost: 4.5,
          user_agent: UA,
          custom: {
            order_id: 'o-77',
            cart_id: 'c-77',
            products: [{ product_id: 'p-1' }],
            campaign: 'spring',
            nested: { a: 1 }
          }
        }
      }
    ])
  })

  it('a standard-named property whose value does not fit its parameter still arrives, as a custom parameter', async () => {
    const { user } = await userFor(
      events.trackEvent('Odd Values', { quantity: 1.5, currency: 'dollars', price: 'free', name: '' })
    )
    expect(user?.events).toStrictEqual([
      {
        event_name: 'odd_values',
        timestamp: TS,
        event_params: { user_agent: UA, custom: { quantity: 1.5, currency: 'dollars', price: 'free', name: '' } }
      }
    ])
  })

  it('User Registered and Product List Viewed keep standard-named properties too', async () => {
    const registered = await userFor(
      events.trackEvent('User Registered', { name: 'Jane', url: 'https://example.com/welcome', method: 'google' })
    )
    expect(registered.user?.events).toStrictEqual([
      {
        event_name: 'sign_up_confirmation',
        timestamp: TS,
        event_params: { name: 'Jane', url: 'https://example.com/welcome', user_agent: UA, custom: { method: 'google' } }
      }
    ])
    const list = await userFor(
      events.trackEvent('Product List Viewed', {
        list_id: 'l-1',
        category: 'Deals',
        name: 'Hot deals',
        url: 'https://example.com/deals'
      })
    )
    expect(list.user?.events).toStrictEqual([
      {
        event_name: 'listing_page_view',
        timestamp: TS,
        event_params: {
          taxonomy: ['Deals'],
          name: 'Hot deals',
          url: 'https://example.com/deals',
          user_agent: UA,
          custom: { list_id: 'l-1' }
        }
      }
    ])
  })

  it('never refuses a track over an unreadable phone in context.traits: it is left out, and the result says so', async () => {
    const { user, results } = await userFor(
      events.trackEvent(
        'Video Played',
        { id: 'v-1' },
        { context: { traits: { phone: '0555 555 55 55', email: 'jane@example.com' } } }
      )
    )
    expect(user?.identifiers).toStrictEqual({ ...anonymousOnly, email: 'jane@example.com' })
    expect(user?.attributes).toStrictEqual({ ...trackAttributes, email: 'jane@example.com' })
    const executed = results.find((result) => result.data !== undefined)
    expect(executed?.data).toMatchObject({
      left_out: [
        {
          field: 'attributes.phone_number',
          value: '0555 555 55 55',
          reason: 'not an E.164 phone number (+ and the country code), and not readable as one'
        },
        {
          field: 'identifiers.phone_number',
          value: '0555 555 55 55',
          reason: 'not an E.164 phone number (+ and the country code), and not readable as one'
        }
      ]
    })
  })

  it('identify: reads a formatted phone, a country name, a birthday with an offset and snake_case names; leaves out what it cannot read', async () => {
    const snakeCase = events.identifyEvent({
      traits: {
        phone: '+1 (415) 555-0100',
        first_name: 'Ayşe',
        last_name: 'Yılmaz',
        birthday: '1990-04-12T02:30:00+03:00',
        address: { city: 'İstanbul', country: 'Türkiye' },
        email: 'not-an-email'
      }
    })
    delete snakeCase.traits?.firstName
    delete snakeCase.traits?.lastName
    const { user, results } = await userFor(snakeCase)
    expect(user).toStrictEqual({
      identifiers: { uuid: 'user-1234', phone_number: '+14155550100', custom: { segment_anonymous_id: 'anon-5678' } },
      attributes: {
        phone_number: '+14155550100',
        name: 'Ayşe',
        surname: 'Yılmaz',
        gender: 'female',
        age: 34,
        birthday: '1990-04-11T23:30:00Z',
        language: 'en_US',
        city: 'İstanbul',
        country: 'TR'
      },
      not_append: true
    })
    expect(results.find((result) => result.data !== undefined)?.data).toMatchObject({
      left_out: [
        { field: 'identifiers.email', value: 'not-an-email', reason: 'not an email address' },
        { field: 'attributes.email', value: 'not-an-email', reason: 'not an email address' }
      ]
    })
    const unreadable = await userFor(
      events.identifyEvent({ traits: { address: { country: 'Atlantis' }, birthday: '04/12/1990' } })
    )
    expect(unreadable.user?.attributes).not.toHaveProperty('country')
    expect(unreadable.user?.attributes).not.toHaveProperty('birthday')
    expect(unreadable.results.find((result) => result.data !== undefined)?.data).toMatchObject({
      left_out: [
        expect.objectContaining({ field: 'attributes.birthday', value: '04/12/1990' }),
        expect.objectContaining({ field: 'attributes.country', value: 'Atlantis' })
      ]
    })
  })

  it('an order whose product has no quantity is still a purchase (confirmation_page_view has no required fields)', async () => {
    const { user } = await userFor(
      events.trackEvent('Order Completed', {
        order_id: 'o-1',
        currency: 'usd',
        products: [{ product_id: 'p-1', price: 5 }]
      })
    )
    expect(user?.events).toStrictEqual([
      {
        event_name: 'confirmation_page_view',
        timestamp: TS,
        event_params: {
          product_id: 'p-1',
          unit_price: 5,
          unit_sale_price: 5,
          currency: 'USD',
          event_group_id: 'o-1',
          user_agent: UA
        }
      }
    ])
  })

  it('parity with Segment’s own destination: user attributes on tracks, url and referrer from the page, the user agent', async () => {
    const added = events.productAddedEvent({
      context: {
        page: { url: 'https://shop.example/cart', referrer: 'https://shop.example/' },
        traits: { first_name: 'Jane', lastName: 'Doe', age: 34, address: { country: 'United Kingdom' } }
      }
    })
    delete added.properties?.url
    const { user } = await userFor(added)
    expect(user?.attributes).toStrictEqual({ name: 'Jane', surname: 'Doe', age: 34, country: 'GB', language: 'en_US' })
    expect(user?.events).toMatchObject([
      {
        event_name: 'item_added_to_cart',
        event_params: {
          url: 'https://shop.example/cart',
          referrer: 'https://shop.example/',
          user_agent: UA,
          custom: { cart_id: 'skdjsidjsdkdj29j', sku: '45790-32', brand: 'Hasbro', coupon: 'MAYDEALS', position: 1 }
        }
      }
    ])
  })

  it('each e-commerce event, page and custom event matches exactly one preset and sends exactly one request', async () => {
    const cases: [SegmentEvent, string][] = [
      [events.productViewedEvent(), 'productViewedEvent'],
      [events.productListViewedEvent(), 'productListViewedEvent'],
      [events.productAddedEvent(), 'productAddedEvent'],
      [events.productRemovedEvent(), 'productRemovedEvent'],
      [events.cartViewedEvent(), 'cartViewedEvent'],
      [
        events.trackEvent('Cart Reviewed', { cart_id: 'c', currency: 'USD', products: events.sampleProducts }),
        'cartViewedEvent'
      ],
      [events.checkoutStartedEvent(), 'checkoutEvent'],
      [events.trackEvent('Checkout Step Viewed', { checkout_id: 'c', step: 2 }), 'checkoutEvent'],
      [events.orderCompletedEvent(), 'orderCompletedEvent'],
      [events.trackEvent('User Registered'), 'userRegisteredEvent'],
      [events.pageEvent(), 'pageViewedEvent'],
      [events.trackEvent('Anything Else'), 'trackEvent'],
      [events.identifyEvent(), 'updateUserProfile']
    ]
    for (const [event, action] of cases) {
      const requests = captureRequests(nock(HOST).post('/api/user/v1/upsert').reply(200, success))
      const results = await runPresets(destination, event, settings)
      expect(requests).toHaveLength(1)
      const executed = results.filter((result) => result.output === 'Action Executed')
      expect([event.event ?? event.type, executed.length]).toStrictEqual([event.event ?? event.type, 1])
      const matched = (destination.presets ?? []).filter(
        (preset) => preset.type === 'automatic' && preset.partnerAction === action
      )
      expect(matched).toHaveLength(1)
    }
  })

  it('a batch reports what was left out per event, in the multistatus', async () => {
    const requests = captureRequests(nock(HOST).post('/api/user/v1/upsert').reply(200, success))
    const results = await runPresetsBatch(
      destination,
      [
        events.trackEvent('Batched', {}, { context: { traits: { phone: '12345' } } }),
        events.trackEvent('Batched', {}, { userId: 'user-2' })
      ],
      settings
    )
    expect((onlyRequest(requests).body as { users: unknown[] }).users).toHaveLength(2)
    const statuses = results.flatMap((result) => result.multistatus ?? [])
    expect(statuses.map((entry) => entry.status)).toStrictEqual([200, 200])
    expect(statuses[0]).toMatchObject({
      body: {
        left_out: [expect.objectContaining({ field: 'attributes.phone_number', value: '12345' }), expect.any(Object)]
      }
    })
    expect(statuses[1]).toMatchObject({ body: 'accepted' })
  })
})
