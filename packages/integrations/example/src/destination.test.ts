import { describe, expect, it } from '@jest/globals'
import { createRequestClient, defaultValues, Destination } from '@segment/actions-core'
import { testAuthentication } from '@open-actions/core'
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
import accepted from './__fixtures__/events-accepted.json'
import partialFailure from './__fixtures__/events-partial-failure.json'
import unauthorized from './__fixtures__/unauthorized.json'
import { identifyUser } from './actions/identify-user'
import { destination } from './destination'
import { checkWorkspace } from './example-api'
import { VERSION } from './index'

useStrictNock()

const settings = { workspace_id: 'ws_123', api_key: 'sk_test_secret', region: 'us' }
const US = 'https://api.example-vendor.com'
const EU = 'https://api.eu.example-vendor.com'

describe('Example Vendor presets through Destination.onEvent', () => {
  it('sends an identify to the users endpoint with the bearer key', async () => {
    const scope = nock(US).post('/v2/workspaces/ws_123/users').reply(200, { upserted: 1 })
    const requests = captureRequests(scope)
    await runPresets(destination, events.identifyEvent(), settings)
    const request = onlyRequest(requests)
    expect(request.url).toBe(`${US}/v2/workspaces/ws_123/users`)
    expect(pickHeaders(request, ['authorization', 'content-type'])).toStrictEqual({
      authorization: 'Bearer sk_test_secret',
      'content-type': 'application/json'
    })
    expect(request.body).toStrictEqual({
      users: [
        { id: 'user-1234', anonymous_id: 'anon-5678', email: 'jane.doe@example.com', traits: events.sampleTraits }
      ]
    })
  })

  it('sends a track to the events endpoint of the EU region', async () => {
    const scope = nock(EU).post('/v2/workspaces/ws_123/events').reply(200, accepted)
    const requests = captureRequests(scope)
    await runPresets(destination, events.trackEvent('Signed Up', { plan: 'pro' }), { ...settings, region: 'eu' })
    expect(requests.map((request) => request.url)).toStrictEqual([`${EU}/v2/workspaces/ws_123/events`])
    expect(requests[0]?.body).toStrictEqual({
      events: [
        {
          name: 'Signed Up',
          user_id: 'user-1234',
          anonymous_id: 'anon-5678',
          message_id: 'msg-track-0001',
          timestamp: '2024-05-01T12:00:00.000Z',
          properties: { plan: 'pro' }
        }
      ]
    })
  })

  it('fails an event that the vendor refuses inside a 200', async () => {
    nock(US)
      .post('/v2/workspaces/ws_123/events')
      .reply(200, { accepted: 0, errors: [{ index: 0, message: 'timestamp is more than 30 days in the past' }] })
    await expect(runPresets(destination, events.trackEvent('Old'), settings)).rejects.toMatchObject({
      status: 400,
      message: 'Example Vendor refused the event: timestamp is more than 30 days in the past'
    })
  })

  it('refuses an unknown region, naming the valid ones, before sending anything', async () => {
    // actions-core's settings validation catches it first (the field has choices); the region resolver is the
    // second guard for runtimes that skip settings validation.
    await expect(runPresets(destination, events.identifyEvent(), { ...settings, region: 'ap' })).rejects.toThrow(
      'Region must be one of: "us" or "eu".'
    )
  })

  it('reports a user without any id as a validation error naming the field', async () => {
    await expect(
      runPresets(destination, events.identifyEvent({ userId: undefined, anonymousId: undefined }), settings)
    ).rejects.toThrow('Example Vendor user: id needs an id or an anonymous_id')
  })
})

describe('Example Vendor batches through Destination.onBatch', () => {
  it('sends one request per batch and reports per-event failures from the 200 body', async () => {
    const scope = nock(US).post('/v2/workspaces/ws_123/events').reply(200, partialFailure)
    const requests = captureRequests(scope)
    const results = await runPresetsBatch(
      destination,
      [events.trackEvent('A'), events.trackEvent('B', {}, { timestamp: '2020-01-01T00:00:00.000Z' })],
      settings
    )
    expect(requests).toHaveLength(1)
    expect((requests[0]?.body as { events: { name: string }[] }).events.map((event) => event.name)).toStrictEqual([
      'A',
      'B'
    ])
    const multistatus = results.flatMap((result) => result.multistatus ?? [])
    expect(multistatus.map((entry) => entry.status)).toStrictEqual([200, 400])
    expect(multistatus[1]).toMatchObject({
      errormessage: 'Example Vendor refused the event: timestamp is more than 30 days in the past'
    })
  })

  it('splits a batch at the configured batch size', async () => {
    const scope = nock(US).post('/v2/workspaces/ws_123/users').times(2).reply(200, {})
    const requests = captureRequests(scope)
    const subscriptions = [
      {
        partnerAction: 'identifyUser',
        subscribe: 'type = "identify"',
        mapping: { ...defaultValues(identifyUser.fields), batch_size: 2 }
      }
    ]
    const results = await runPresetsBatch(
      destination,
      [
        events.identifyEvent({ userId: 'a' }),
        events.identifyEvent({ userId: 'b' }),
        events.identifyEvent({ userId: 'c' })
      ],
      settings,
      subscriptions
    )
    expect(
      requests.map((request) => (request.body as { users: { id: string }[] }).users.map((user) => user.id))
    ).toStrictEqual([['a', 'b'], ['c']])
    expect(results.flatMap((result) => result.multistatus ?? []).map((entry) => entry.status)).toStrictEqual([
      200, 200, 200
    ])
  })
})

describe('Example Vendor authentication', () => {
  it('checks the workspace with the key, and keeps the authentication error class', async () => {
    nock(US)
      .get('/v2/workspaces/ws_123')
      .matchHeader('authorization', 'Bearer sk_test_secret')
      .reply(200, { id: 'ws_123' })
    await expect(testAuthentication(destination, settings)).resolves.toStrictEqual({ ok: true })
    nock(US).get('/v2/workspaces/ws_123').reply(401, unauthorized)
    await expect(testAuthentication(destination, settings)).resolves.toStrictEqual({
      ok: false,
      error: {
        name: 'VendorAuthenticationError',
        code: 'INVALID_AUTHENTICATION',
        status: 401,
        message: 'Example Vendor rejected the credentials (HTTP 401): The API key is not valid for this workspace.',
        settings: ['api_key']
      }
    })
  })

  it('validates settings as an actions runtime does', () => {
    expect(() => new Destination(destination).validateSettings({ workspace_id: 'ws', region: 'us' } as never)).toThrow(
      /api_key/
    )
  })

  it('encodes the workspace id into the path', async () => {
    nock(US).get('/v2/workspaces/a%2Fb').reply(200, {})
    await checkWorkspace(createRequestClient({}), { ...settings, workspace_id: 'a/b' })
  })

  it('exports the package version', () => {
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/)
  })
})
