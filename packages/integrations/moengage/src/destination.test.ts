import { describe, expect, it } from '@jest/globals'
import { InvalidAuthenticationError } from '@segment/actions-core'
import { basicAuthorization, testAuthentication, VendorRetryableError } from '@open-actions/core'
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
import accepted from './__fixtures__/accepted.json'
import badRequest from './__fixtures__/bad-request.json'
import rateLimited from './__fixtures__/rate-limited.json'
import { destination } from './destination'
import { BULK_ACCEPTED } from './moengage-action'

useStrictNock()

const settings = { api_id: 'WS1234ABCD', api_key: 'moe_secret_key', region: 'DC_01' }
const DC01 = 'https://api-01.moengage.com'
const context = { app: {}, os: {}, library: { version: '2.11.1' } }

function segmentIntegration(host: string) {
  return nock(host).post('/v1/integrations/segment').query({ appId: 'WS1234ABCD' })
}

describe('MoEngage presets through Destination.onEvent', () => {
  it('sends an identify to the Segment integration endpoint with Basic auth and MOE-APPKEY', async () => {
    const requests = captureRequests(segmentIntegration(DC01).reply(200, accepted))
    await runPresets(
      destination,
      events.identifyEvent({ context: { app: { version: '5.1.0' }, os: { name: 'iOS' } } }),
      settings
    )
    const request = onlyRequest(requests)
    expect(request.url).toBe(`${DC01}/v1/integrations/segment?appId=WS1234ABCD`)
    expect(pickHeaders(request, ['authorization', 'moe-appkey', 'content-type'])).toStrictEqual({
      authorization: basicAuthorization('WS1234ABCD', 'moe_secret_key'),
      'moe-appkey': 'WS1234ABCD',
      'content-type': 'application/json'
    })
    expect(request.body).toStrictEqual({
      type: 'identify',
      user_id: 'user-1234',
      anonymous_id: 'anon-5678',
      traits: events.sampleTraits,
      context: { app: { version: '5.1.0' }, os: { name: 'iOS' }, library: { version: '2.11.1' } },
      timestamp: '2024-05-01T12:00:00.000Z',
      update_existing_only: false
    })
  })

  it('sends a track with its properties, to the host of each region', async () => {
    for (const [region, host] of [
      ['DC_02', 'https://api-02.moengage.com'],
      ['DC_06', 'https://api-06.moengage.com'],
      ['DC_101', 'https://api-101.moengage.com']
    ] as const) {
      const requests = captureRequests(segmentIntegration(host).reply(200, accepted))
      await runPresets(destination, events.trackEvent('Signed Up', { plan: 'pro' }), { ...settings, region })
      expect(onlyRequest(requests).body).toStrictEqual({
        type: 'track',
        user_id: 'user-1234',
        anonymous_id: 'anon-5678',
        event: 'Signed Up',
        properties: { plan: 'pro' },
        context,
        timestamp: '2024-05-01T12:00:00.000Z',
        update_existing_only: false
      })
    }
  })

  it('refuses an unknown region, naming the valid ones', async () => {
    await expect(runPresets(destination, events.identifyEvent(), { ...settings, region: 'DC_07' })).rejects.toThrow(
      'Data Center must be one of: "DC_01", "DC_02", "DC_03", "DC_04", "DC_05", "DC_06", or "DC_101".'
    )
  })

  it('sends anonymous users and "update existing users only"', async () => {
    const requests = captureRequests(segmentIntegration(DC01).reply(200, accepted))
    const subscriptions = [
      {
        partnerAction: 'trackEvent',
        subscribe: 'type = "track"',
        mapping: {
          ...(destination.presets?.[1]?.type === 'automatic' ? destination.presets[1].mapping : {}),
          update_existing_only: true
        }
      }
    ]
    await runPresets(destination, events.trackEvent('Viewed', {}, { userId: undefined }), settings, subscriptions)
    expect(onlyRequest(requests).body).toMatchObject({ anonymous_id: 'anon-5678', update_existing_only: true })
    expect(onlyRequest(requests).body).not.toHaveProperty('user_id')
  })
})

describe('MoEngage and Engage, by both methods', () => {
  it('an audience sent by identify arrives as a true/false custom attribute', async () => {
    const requests = captureRequests(segmentIntegration(DC01).times(2).reply(200, accepted))
    await runPresets(destination, events.audienceIdentifyEvent('vip_users', true), settings)
    await runPresets(destination, events.audienceIdentifyEvent('vip_users', false), settings)
    expect(requests.map((request) => (request.body as { traits: Record<string, unknown> }).traits)).toStrictEqual([
      { email: 'jane.doe@example.com', vip_users: true },
      { email: 'jane.doe@example.com', vip_users: false }
    ])
  })

  it('a computed trait sent by identify arrives as a custom attribute', async () => {
    const requests = captureRequests(segmentIntegration(DC01).reply(200, accepted))
    await runPresets(destination, events.computedTraitIdentifyEvent('lifetime_value', 420), settings)
    expect((onlyRequest(requests).body as { traits: unknown }).traits).toStrictEqual({
      email: 'jane.doe@example.com',
      lifetime_value: 420
    })
  })

  it('audiences and computed traits sent by track arrive as Audience Entered / Exited / Trait Computed events', async () => {
    const requests = captureRequests(segmentIntegration(DC01).times(3).reply(200, accepted))
    await runPresets(destination, events.audienceTrackEvent('vip_users', true), settings)
    await runPresets(destination, events.audienceTrackEvent('vip_users', false), settings)
    await runPresets(destination, events.computedTraitTrackEvent('lifetime_value', 420), settings)
    expect(
      requests
        .map((request) => request.body as { event: string; properties: unknown })
        .map(({ event, properties }) => [event, properties])
    ).toStrictEqual([
      ['Audience Entered', { audience_key: 'vip_users', vip_users: true }],
      ['Audience Exited', { audience_key: 'vip_users', vip_users: false }],
      ['Trait Computed', { trait_key: 'lifetime_value', lifetime_value: 420 }]
    ])
  })

  it('has one preset per action, from its default subscription, so each event is sent once whichever method Engage uses', async () => {
    expect(
      destination.presets?.map((preset) =>
        preset.type === 'automatic' ? [preset.name, preset.partnerAction, preset.subscribe] : []
      )
    ).toStrictEqual([
      ['Identify User', 'identifyUser', 'type = "identify"'],
      ['Track Event', 'trackEvent', 'type = "track"']
    ])
    for (const event of [
      events.audienceIdentifyEvent('vip_users', true),
      events.audienceTrackEvent('vip_users', true),
      events.identifyEvent(),
      events.trackEvent('Signed Up')
    ]) {
      const requests = captureRequests(segmentIntegration(DC01).reply(200, accepted))
      await runPresets(destination, event, settings)
      expect(requests).toHaveLength(1)
    }
  })
})

describe('MoEngage data rules', () => {
  it('refuses the reserved moe_ prefix and the blocked names id, _id and "", naming the attribute', async () => {
    await expect(runPresets(destination, events.identifyEvent({ traits: { moe_score: 3 } }), settings)).rejects.toThrow(
      'MoEngage identify: traits.moe_score uses the reserved moe_ prefix; MoEngage may blacklist it'
    )
    await expect(runPresets(destination, events.trackEvent('Clicked', { _id: 'x' }), settings)).rejects.toThrow(
      'MoEngage track: properties._id is a blocked MoEngage attribute name (properties may not use "id", "_id" or an empty name)'
    )
    await expect(runPresets(destination, events.identifyEvent({ traits: { id: 7 } }), settings)).rejects.toThrow(
      /traits\.id is a blocked MoEngage attribute name/
    )
    await expect(runPresets(destination, events.trackEvent('moe_internal'), settings)).rejects.toThrow(
      'MoEngage track: event uses the reserved moe_ prefix; MoEngage may blacklist it'
    )
  })
})

describe('MoEngage responses', () => {
  it('maps 400 to a non-retryable error with MoEngage’s message, 401/403 to authentication, 429 and 5xx to retryable', async () => {
    segmentIntegration(DC01).reply(400, badRequest)
    await expect(runPresets(destination, events.trackEvent('X'), settings)).rejects.toThrow(
      'MoEngage rejected the request (HTTP 400): Bad Request: customer_id is mandatory: (attribute customer_id)'
    )
    segmentIntegration(DC01).reply(401, {
      status: 'fail',
      error: { message: 'Invalid credentials', type: 'Authentication required' }
    })
    await expect(runPresets(destination, events.trackEvent('X'), settings)).rejects.toBeInstanceOf(
      InvalidAuthenticationError
    )
    segmentIntegration(DC01).reply(429, rateLimited)
    await expect(runPresets(destination, events.trackEvent('X'), settings)).rejects.toThrow(
      new VendorRetryableError(
        'MoEngage answered HTTP 429: Rate Limits Exceeded: Rate limit exceeded for the workspace',
        429
      )
    )
    segmentIntegration(DC01).reply(502, 'Bad Gateway')
    await expect(runPresets(destination, events.trackEvent('X'), settings)).rejects.toBeInstanceOf(VendorRetryableError)
  })

  it('tests credentials with the Segment integration auth endpoint', async () => {
    nock(DC01)
      .get('/v1/integrations/segment/auth')
      .query({ appId: 'WS1234ABCD' })
      .matchHeader('authorization', basicAuthorization('WS1234ABCD', 'moe_secret_key'))
      .reply(200, {})
    await expect(testAuthentication(destination, settings)).resolves.toStrictEqual({ ok: true })
    nock(DC01).get('/v1/integrations/segment/auth').query({ appId: 'WS1234ABCD' }).reply(401, {})
    await expect(testAuthentication(destination, settings)).resolves.toMatchObject({
      ok: false,
      error: { code: 'INVALID_AUTHENTICATION' }
    })
  })
})

describe('MoEngage batches through the bulk API', () => {
  it('sends identified users and events as bulk elements, and anonymous ones through the integration endpoint', async () => {
    const bulk = captureRequests(nock(DC01).post('/v1/transition/WS1234ABCD').reply(200, accepted))
    const single = captureRequests(segmentIntegration(DC01).reply(200, accepted))
    const batch = [
      events.trackEvent(
        'Clicked',
        { button: 'buy' },
        { userId: 'u-1', context: { app: { version: '5.1.0' }, os: { name: 'Android' } } }
      ),
      events.trackEvent('Clicked', { button: 'buy' }, { userId: undefined })
    ]
    const results = await runPresetsBatch(destination, batch, settings)
    expect(onlyRequest(bulk).body).toStrictEqual({
      type: 'transition',
      elements: [
        {
          type: 'event',
          customer_id: 'u-1',
          device_id: 'anon-5678',
          actions: [
            {
              action: 'Clicked',
              attributes: { button: 'buy' },
              platform: 'ANDROID',
              app_version: '5.1.0',
              user_time: '2024-05-01T12:00:00.000Z',
              current_time: '2024-05-01T12:00:00.000Z'
            }
          ],
          update_existing_only: false
        }
      ]
    })
    expect(onlyRequest(single).body).toMatchObject({ type: 'track', anonymous_id: 'anon-5678', event: 'Clicked' })
    const statuses = results.flatMap((result) => result.multistatus ?? [])
    expect(statuses.map((entry) => entry.status)).toStrictEqual([200, 200])
    // What the bulk API knows: accepted, not processed.
    expect(statuses[0]).toMatchObject({ body: BULK_ACCEPTED })
  })

  it('sends identifies as customer elements and splits bulk calls at 100 KB', async () => {
    const bulk = captureRequests(nock(DC01).post('/v1/transition/WS1234ABCD').times(3).reply(200, accepted))
    // 12 users with ~20 KB of traits each: about 240 KB, so three calls.
    const batch = Array.from({ length: 12 }, (_, index) =>
      events.identifyEvent({ userId: `u-${index}`, traits: { bio: 'b'.repeat(20_000) } })
    )
    const results = await runPresetsBatch(destination, batch, settings)
    expect(bulk).toHaveLength(3)
    for (const request of bulk) expect(Buffer.byteLength(JSON.stringify(request.body))).toBeLessThanOrEqual(100 * 1024)
    const elements = bulk.flatMap(
      (request) =>
        (request.body as { elements: { type: string; customer_id: string; attributes: { bio: string } }[] }).elements
    )
    expect(elements.map((element) => element.customer_id)).toStrictEqual(batch.map((event) => event.userId))
    expect(elements[0]).toMatchObject({
      type: 'customer',
      update_existing_only: false,
      attributes: { email: 'jane.doe@example.com', bio: 'b'.repeat(20_000) }
    })
    expect(results.flatMap((result) => result.multistatus ?? []).filter((entry) => entry.status === 200)).toHaveLength(
      12
    )
  })
})

describe('one mapping, two transports: a batch carries what a single send carries', () => {
  const identify = events.identifyEvent({
    userId: 'u-77',
    anonymousId: 'anon-77',
    traits: { firstName: 'Jane', lastName: 'Doe', phone: '+14155550100', email: 'jane@example.com', plan: 'pro' },
    context: { app: { version: '5.1.0' }, os: { name: 'iOS' } }
  })
  const track = events.trackEvent(
    'Order Placed',
    { total: 30 },
    { userId: 'u-77', anonymousId: 'anon-77', context: { app: { version: '5.1.0' }, os: { name: 'Mac OS X' } } }
  )

  async function single(event: typeof identify) {
    const requests = captureRequests(segmentIntegration(DC01).reply(200, accepted))
    await runPresets(destination, event, settings)
    return onlyRequest(requests).body as Record<string, unknown> & {
      traits?: Record<string, unknown>
      properties?: Record<string, unknown>
      context: { app: { version?: string } }
    }
  }

  async function bulk(event: typeof identify) {
    const requests = captureRequests(nock(DC01).post('/v1/transition/WS1234ABCD').reply(200, accepted))
    await runPresetsBatch(destination, [event], settings)
    return (onlyRequest(requests).body as { elements: Record<string, unknown>[] }).elements[0]
  }

  it('identify: user id, anonymous id, every trait (reserved ones under MoEngage’s names), platform, update flag', async () => {
    const body = await single(identify)
    expect(body).toStrictEqual({
      type: 'identify',
      user_id: 'u-77',
      anonymous_id: 'anon-77',
      traits: {
        ...events.sampleTraits,
        firstName: 'Jane',
        lastName: 'Doe',
        phone: '+14155550100',
        email: 'jane@example.com',
        plan: 'pro'
      },
      context: { app: { version: '5.1.0' }, os: { name: 'iOS' }, library: { version: '2.11.1' } },
      timestamp: '2024-05-01T12:00:00.000Z',
      update_existing_only: false
    })
    const element = await bulk(identify)
    const { firstName, lastName, phone, ...rest } = body.traits ?? {}
    expect(element).toStrictEqual({
      type: 'customer',
      customer_id: body.user_id,
      attributes: {
        ...rest,
        first_name: firstName,
        last_name: lastName,
        mobile: phone,
        anonymous_id: body.anonymous_id
      },
      platforms: [{ platform: 'iOS', active: 'true' }],
      update_existing_only: body.update_existing_only
    })
  })

  it('track: user id, anonymous id as the device, properties, time, platform and app version', async () => {
    const body = await single(track)
    const element = await bulk(track)
    expect(element).toStrictEqual({
      type: 'event',
      customer_id: body.user_id,
      device_id: body.anonymous_id,
      actions: [
        {
          action: body.event,
          attributes: body.properties,
          platform: 'web',
          app_version: body.context.app.version,
          user_time: body.timestamp,
          current_time: body.timestamp
        }
      ],
      update_existing_only: body.update_existing_only
    })
  })

  it('Portfolio projects: the project travels as moe_project_name, single and batched', async () => {
    const trackPreset = destination.presets?.find((preset) => preset.name === 'Track Event')
    const subscriptions = [
      {
        partnerAction: 'trackEvent',
        subscribe: 'type = "track"',
        mapping: { ...(trackPreset?.type === 'automatic' ? trackPreset.mapping : {}), project: 'app-eu' }
      }
    ]
    const requests = captureRequests(segmentIntegration(DC01).reply(200, accepted))
    await runPresets(destination, track, settings, subscriptions)
    expect((onlyRequest(requests).body as { properties: unknown }).properties).toStrictEqual({
      total: 30,
      moe_project_name: 'app-eu'
    })
    const batched = captureRequests(nock(DC01).post('/v1/transition/WS1234ABCD').reply(200, accepted))
    await runPresetsBatch(destination, [track], settings, subscriptions)
    expect(onlyRequest(batched).body).toMatchObject({
      elements: [{ actions: [{ attributes: { total: 30, moe_project_name: 'app-eu' } }] }]
    })
  })

  it('accepts an identify without traits', async () => {
    const bare = events.identifyEvent()
    delete bare.traits
    const body = await single(bare)
    expect(body).toMatchObject({ type: 'identify', user_id: 'user-1234', anonymous_id: 'anon-5678', traits: {} })
  })
})
