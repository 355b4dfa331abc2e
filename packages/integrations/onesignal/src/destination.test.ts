import { describe, expect, it } from '@jest/globals'
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
import accepted from './__fixtures__/update-user-accepted.json'
import rateLimited from './__fixtures__/rate-limited.json'
import created from './__fixtures__/segment-created.json'
import segmentsPage from './__fixtures__/segments-page.json'
import { destination } from './destination'

useStrictNock()

const API = 'https://api.onesignal.com'
const APP = '9d2a3b1c-0000-4a4a-8f8f-123456789abc'
const settings = { app_id: APP, api_key: 'os_app_key_secret' }
const USER_PATH = `/apps/${APP}/users/by/external_id/user-1234`

function tagResult(results: Awaited<ReturnType<typeof runPresets>>) {
  return results.find((result) => result.output === 'Action Executed')?.data
}

describe('OneSignal identify → data tags', () => {
  it('stores traits as string tags on the External ID user, leaving out and naming what cannot be a tag', async () => {
    const requests = captureRequests(nock(API).patch(USER_PATH).reply(202, accepted))
    const results = await runPresets(
      destination,
      events.identifyEvent({ traits: { vip: true, nickname: null, bio: '  ', tags: ['a'] } }),
      settings
    )
    const request = onlyRequest(requests)
    expect(request.url).toBe(`${API}${USER_PATH}`)
    expect(pickHeaders(request, ['authorization', 'content-type'])).toStrictEqual({
      authorization: 'Key os_app_key_secret',
      'content-type': 'application/json'
    })
    expect(request.body).toStrictEqual({
      properties: {
        tags: {
          first_name: 'Jane',
          last_name: 'Doe',
          age: '34',
          birthday: '1990-04-12T00:00:00Z',
          gender: 'female',
          plan: 'pro',
          vip: 'true',
          nickname: '',
          bio: ''
        }
      }
    })
    expect(tagResult(results)).toStrictEqual({
      external_id: 'user-1234',
      tags: {
        first_name: 'Jane',
        last_name: 'Doe',
        age: '34',
        birthday: '1990-04-12T00:00:00Z',
        gender: 'female',
        plan: 'pro',
        vip: 'true',
        nickname: '',
        bio: ''
      },
      requests: 1,
      left_out: [
        { trait: 'email', reason: "email is not stored as a tag; OneSignal keeps it on the user's email subscription" },
        { trait: 'phone', reason: "phone is not stored as a tag; OneSignal keeps it on the user's SMS subscription" },
        {
          trait: 'address',
          reason:
            'nested objects cannot be OneSignal tags; turn on "Flatten Nested Values" to send them as address_… tags'
        },
        {
          trait: 'tags',
          reason: 'arrays cannot be OneSignal tags; turn on "Flatten Nested Values" to send them as tags_… tags'
        }
      ]
    })
  })

  it('flattens nested objects and arrays when asked (address.city → address_city)', async () => {
    const requests = captureRequests(nock(API).patch(USER_PATH).reply(202, accepted))
    const subscriptions = [
      {
        partnerAction: 'identifyUser',
        subscribe: 'type = "identify"',
        mapping: { user_id: { '@path': '$.userId' }, traits: { '@path': '$.traits' }, flatten_nested_values: true }
      }
    ]
    await runPresets(destination, events.identifyEvent({ traits: { tags: ['a', 'b'] } }), settings, subscriptions)
    expect(
      (onlyRequest(requests).body as { properties: { tags: Record<string, string> } }).properties.tags
    ).toMatchObject({
      address_city: 'San Francisco',
      address_country: 'US',
      tags_0: 'a',
      tags_1: 'b'
    })
  })

  it('does not send an event without a userId, and says why', async () => {
    await expect(runPresets(destination, events.identifyEvent({ userId: undefined }), settings)).rejects.toThrow(
      'user_id is required: OneSignal stores tags on the user whose External ID is the Segment userId, and this event has none, so it was not sent'
    )
  })

  it('splits more than 100 tags into requests of 100, and leaves reserved keys out with a reason', async () => {
    const traits: Record<string, string> = { message: 'hi' }
    for (let index = 0; index < 230; index += 1) traits[`t${index}`] = `${index}`
    const requests = captureRequests(nock(API).patch(USER_PATH).times(3).reply(202, accepted))
    const results = await runPresets(destination, events.identifyEvent({ traits }), settings)
    expect(
      requests.map((request) => Object.keys((request.body as { properties: { tags: object } }).properties.tags).length)
    ).toStrictEqual([100, 100, 36])
    expect((tagResult(results) as { left_out: unknown[] }).left_out).toContainEqual({
      trait: 'message',
      reason: '"message" is a tag key OneSignal reserves'
    })
  })
})

describe('OneSignal fuzz regressions', () => {
  it('leaves out an empty trait key with a reason instead of throwing (pnpm fuzz, seed 20241101)', async () => {
    const requests = captureRequests(nock(API).patch(USER_PATH).reply(202, accepted))
    const results = await runPresets(
      destination,
      events.identifyEvent({ traits: { '': 'x', ' ': 'y', toString: 'z', constructor: 'c', plan: 'pro' } }),
      settings
    )
    expect(
      (onlyRequest(requests).body as { properties: { tags: Record<string, string> } }).properties.tags
    ).toMatchObject({ plan: 'pro', toString: 'z', constructor: 'c' })
    expect((tagResult(results) as { left_out: unknown[] }).left_out).toContainEqual({
      trait: '',
      reason: 'an empty key cannot be a OneSignal tag'
    })
  })
})

describe('OneSignal track → data tags', () => {
  it('stores properties as tags and drops the event name by default', async () => {
    const requests = captureRequests(nock(API).patch(USER_PATH).reply(202, accepted))
    await runPresets(destination, events.trackEvent('Level Completed', { level: 7, difficulty: 'hard' }), settings)
    expect(onlyRequest(requests).body).toStrictEqual({ properties: { tags: { level: '7', difficulty: 'hard' } } })
  })

  it('keeps the event name as the tag event_name when asked', async () => {
    const requests = captureRequests(nock(API).patch(USER_PATH).reply(202, accepted))
    const subscriptions = [
      {
        partnerAction: 'trackTags',
        subscribe: 'type = "track"',
        mapping: {
          user_id: { '@path': '$.userId' },
          event_name: { '@path': '$.event' },
          properties: { '@path': '$.properties' },
          keep_event_name: true
        }
      }
    ]
    await runPresets(destination, events.trackEvent('Level Completed', { level: 7 }), settings, subscriptions)
    expect(onlyRequest(requests).body).toStrictEqual({
      properties: { tags: { level: '7', event_name: 'Level Completed' } }
    })
  })
})

describe('OneSignal custom events', () => {
  const subscriptions = [
    {
      partnerAction: 'sendCustomEvent',
      subscribe: 'type = "track"',
      mapping: {
        name: { '@path': '$.event' },
        user_id: { '@path': '$.userId' },
        timestamp: { '@path': '$.timestamp' },
        payload: { '@path': '$.properties' }
      }
    }
  ]

  it('sends a track to the custom events endpoint', async () => {
    const requests = captureRequests(nock(API).post(`/apps/${APP}/integrations/custom_events`).reply(202, {}))
    await runPresets(destination, events.trackEvent('Level Completed', { level: 7 }), settings, subscriptions)
    expect(onlyRequest(requests).body).toStrictEqual({
      events: [
        {
          name: 'Level Completed',
          external_id: 'user-1234',
          timestamp: '2024-05-01T12:00:00.000Z',
          payload: { level: 7 }
        }
      ]
    })
  })

  it('refuses an event over 2,024 bytes or with a name over 128 characters', async () => {
    await expect(
      runPresets(destination, events.trackEvent('Big', { blob: 'x'.repeat(3000) }), settings, subscriptions)
    ).rejects.toThrow('OneSignal custom event: payload a custom event must be at most 2024 bytes')
    await expect(runPresets(destination, events.trackEvent('n'.repeat(129)), settings, subscriptions)).rejects.toThrow(
      'OneSignal custom event: name must be at most 128 characters'
    )
  })

  it('in a batch, fails only the events a 202 lists under errors', async () => {
    nock(API)
      .post(`/apps/${APP}/integrations/custom_events`)
      .reply(202, { errors: [{ index: 1, title: 'external_id not found' }] })
    const results = await runPresetsBatch(
      destination,
      [events.trackEvent('A'), events.trackEvent('B', {}, { userId: 'ghost' }), events.trackEvent('C')],
      settings,
      subscriptions
    )
    const statuses = results.flatMap((result) => result.multistatus ?? [])
    expect(statuses.map((entry) => entry.status)).toStrictEqual([200, 400, 200])
    expect(statuses[1]).toMatchObject({
      errormessage: 'OneSignal refused the event: {"index":1,"title":"external_id not found"}'
    })
  })
})

describe('OneSignal and Engage', () => {
  it('an audience entered by identify creates its segment when missing, then tags the user and adds the other traits', async () => {
    nock(API).get(`/apps/${APP}/segments`).query({ offset: '0', limit: '300' }).reply(200, segmentsPage)
    const createdSegments = captureRequests(nock(API).post(`/apps/${APP}/segments`).reply(201, created))
    const tags = captureRequests(nock(API).patch(USER_PATH).reply(202, accepted))
    await runPresets(
      destination,
      events.audienceIdentifyEvent('spring_shoppers', true, { traits: { plan: 'pro' } }),
      settings
    )
    expect(onlyRequest(createdSegments).body).toStrictEqual({
      name: 'spring_shoppers',
      filters: [{ field: 'tag', key: 'spring_shoppers', relation: '=', value: 'true' }]
    })
    expect(onlyRequest(tags).body).toStrictEqual({ properties: { tags: { plan: 'pro', spring_shoppers: 'true' } } })
  })

  it('does not create a segment that exists; exiting by track removes the tag', async () => {
    nock(API)
      .get(`/apps/${APP}/segments`)
      .query({ offset: '0', limit: '300' })
      .reply(200, {
        ...segmentsPage,
        total_count: 3,
        segments: [...segmentsPage.segments, { id: 'seg-9', name: 'returning_buyers' }]
      })
    const tags = captureRequests(nock(API).patch(USER_PATH).times(2).reply(202, accepted))
    await runPresets(destination, events.audienceTrackEvent('returning_buyers', true), settings)
    await runPresets(destination, events.audienceTrackEvent('returning_buyers', false), settings)
    expect(tags.map((request) => request.body)).toStrictEqual([
      { properties: { tags: { returning_buyers: 'true' } } },
      { properties: { tags: { returning_buyers: '' } } }
    ])
  })

  it('computed traits become tags whichever call carries them', async () => {
    const tags = captureRequests(nock(API).patch(USER_PATH).times(2).reply(202, accepted))
    await runPresets(destination, events.computedTraitIdentifyEvent('lifetime_value', 420), settings)
    await runPresets(destination, events.computedTraitTrackEvent('lifetime_value', 421), settings)
    expect(tags.map((request) => request.body)).toStrictEqual([
      { properties: { tags: { lifetime_value: '420' } } },
      { properties: { tags: { lifetime_value: '421' } } }
    ])
  })
})

describe('OneSignal responses', () => {
  it('maps 429 with Retry-After to retryable, 401 to authentication, 400 to not retryable with OneSignal’s message', async () => {
    nock(API).patch(USER_PATH).reply(429, rateLimited, { 'Retry-After': '1' })
    await expect(runPresets(destination, events.identifyEvent(), settings)).rejects.toThrow(
      new VendorRetryableError('OneSignal answered HTTP 429: API rate limit exceeded.', 429, { retryAfterMs: 1000 })
    )
    nock(API)
      .patch(USER_PATH)
      .reply(401, { errors: ['Access denied.  Please include an Authorization header.'] })
    await expect(runPresets(destination, events.identifyEvent(), settings)).rejects.toBeInstanceOf(
      InvalidAuthenticationError
    )
    nock(API)
      .patch(USER_PATH)
      .reply(400, { errors: [{ title: 'tags must be a flat object', code: 'invalid' }] })
    await expect(runPresets(destination, events.identifyEvent(), settings)).rejects.toThrow(
      'OneSignal rejected the request (HTTP 400): tags must be a flat object'
    )
  })

  it('tests credentials by listing one segment', async () => {
    nock(API)
      .get(`/apps/${APP}/segments`)
      .query({ offset: '0', limit: '1' })
      .matchHeader('authorization', 'Key os_app_key_secret')
      .reply(200, segmentsPage)
    await expect(testAuthentication(destination, settings)).resolves.toStrictEqual({ ok: true })
  })
})
