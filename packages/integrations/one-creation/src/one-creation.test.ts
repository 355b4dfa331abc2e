import { describe, expect, it } from '@jest/globals'
import { basicAuthorization } from '@open-actions/core'
import { deliverSourcePayload } from '@open-actions/segment'
import { captureRequests, onlyRequest, pickHeaders, useStrictNock } from '@open-actions/testing'
import nock from 'nock'
import notFound from './__fixtures__/profile-not-found.json'
import submitted from './__fixtures__/submitted.json'
import { connect } from './connect'
import { createOneCreation } from './one-creation-client'
import { source } from './one-creation-source'
import { traitKeyOf } from './preference-messages'

useStrictNock()

const settings = {
  write_key: 'wk_one_creation',
  access_token: 'pat_one_creation',
  space_id: 'spa_w3sTlv2fRs',
  region: 'us' as const
}
const US = 'https://api.segment.io'
const EU = 'https://events.eu1.segmentapis.com'
const { type: _type, ...submittedInput } = submitted
const context = {
  campaign: { id: 'cmp_spring_2024', name: 'Spring preferences' },
  integration: { name: 'one-creation', version: '1.0.0' }
}
const traits = { favourite_colour: 'green', newsletter_opt_in: true, shoe_size: 39 }

describe('One Creation flows', () => {
  it('Submitted Preferences: an identify with the answers as traits, then the track, in one US batch', async () => {
    const requests = captureRequests(nock(US).post('/v1/batch').reply(200, { success: true }))
    const delivery = await createOneCreation(settings).submitted(submittedInput)
    const request = onlyRequest(requests)
    expect(pickHeaders(request, ['authorization'])).toStrictEqual({
      authorization: basicAuthorization('wk_one_creation')
    })
    expect(request.body).toStrictEqual({
      batch: [
        {
          type: 'identify',
          userId: 'oc-user-42',
          messageId: 'one-creation-resp_01HV7Q9W3K2M-identify',
          timestamp: '2024-05-01T12:00:00.000Z',
          traits: { ...traits, email: 'jane.doe@example.com' },
          context
        },
        {
          type: 'track',
          userId: 'oc-user-42',
          messageId: 'one-creation-resp_01HV7Q9W3K2M-track',
          timestamp: '2024-05-01T12:00:00.000Z',
          event: 'Submitted Preferences',
          properties: { ...traits, response_at: '2024-05-01T12:00:00.000Z' },
          context
        }
      ]
    })
    expect(delivery.outcomes.map((outcome) => outcome.ok)).toStrictEqual([true, true])
  })

  it('Extended Preferences: the latest values, to the EU host', async () => {
    const requests = captureRequests(nock(EU).post('/v1/batch').reply(200, { success: true }))
    await createOneCreation({ ...settings, region: 'eu' }).extended({
      ...submittedInput,
      response_id: 'ext_77',
      answers: { 'Favourite Colour?': 'blue' }
    })
    const [identify, track] = (onlyRequest(requests).body as { batch: Record<string, unknown>[] }).batch
    expect(identify).toMatchObject({
      type: 'identify',
      traits: { favourite_colour: 'blue', email: 'jane.doe@example.com' },
      messageId: 'one-creation-ext_77-identify'
    })
    expect(track).toMatchObject({
      type: 'track',
      event: 'Extended Preferences',
      properties: { favourite_colour: 'blue', response_at: '2024-05-01T12:00:00.000Z' }
    })
  })

  it('Expired Data: the campaign’s traits set to "Expired"', async () => {
    const requests = captureRequests(nock(US).post('/v1/batch').reply(200, { success: true }))
    await createOneCreation(settings).expired({
      response_id: 'exp_9',
      user_id: 'oc-user-42',
      campaign: submitted.campaign,
      response_at: '2024-08-01T00:00:00.000Z',
      question_keys: ['Favourite Colour?', 'Shoe size']
    })
    expect((onlyRequest(requests).body as { batch: unknown[] }).batch).toStrictEqual([
      {
        type: 'identify',
        userId: 'oc-user-42',
        messageId: 'one-creation-exp_9-identify',
        timestamp: '2024-08-01T00:00:00.000Z',
        traits: { favourite_colour: 'Expired', shoe_size: 'Expired' },
        context
      },
      {
        type: 'track',
        userId: 'oc-user-42',
        messageId: 'one-creation-exp_9-track',
        timestamp: '2024-08-01T00:00:00.000Z',
        event: 'Expired Data',
        properties: { favourite_colour: 'Expired', shoe_size: 'Expired', response_at: '2024-08-01T00:00:00.000Z' },
        context
      }
    ])
  })

  it('a redelivered response carries the same messageIds, so Segment counts it once', async () => {
    const requests = captureRequests(nock(US).post('/v1/batch').times(2).reply(200, { success: true }))
    const client = createOneCreation(settings)
    await client.submitted(submittedInput)
    await client.submitted(submittedInput)
    const ids = requests.map((request) =>
      (request.body as { batch: { messageId: string }[] }).batch.map((message) => message.messageId)
    )
    expect(ids[0]).toStrictEqual(ids[1])
  })

  it('derives trait keys one stable way', () => {
    expect(['Favourite Colour?', 'newsletter-opt-in', '  Shoe size ', 'Café ÉTÉ', 'q1'].map(traitKeyOf)).toStrictEqual([
      'favourite_colour',
      'newsletter_opt_in',
      'shoe_size',
      'cafe_ete',
      'q1'
    ])
    expect(() => traitKeyOf('???')).toThrow('question key "???" has no letters or digits to make a trait key from')
  })

  it('refuses bad input with the field named, and sends nothing', async () => {
    const client = createOneCreation(settings)
    await expect(client.submitted({ ...submittedInput, answers: {} })).rejects.toThrow(
      'One Creation payload: answers must hold at least one answer'
    )
    await expect(client.submitted({ ...submittedInput, email: 'not-an-email' })).rejects.toThrow(
      /^One Creation payload: email /
    )
    await expect(client.submitted({ ...submittedInput, response_at: 'yesterday' })).rejects.toThrow(
      /^One Creation payload: response_at /
    )
    await expect(
      client.submitted({ ...submittedInput, answers: { 'Shoe size': 39, 'shoe-size': 40 } })
    ).rejects.toThrow('questions "Shoe size" and "shoe-size" both become the trait "shoe_size"')
    expect(() => createOneCreation({ ...settings, space_id: '' })).toThrow(
      'One Creation settings: space_id is required: copy it from Unify → Unify settings → API access'
    )
  })

  it('serves as an inbound source', async () => {
    const requests = captureRequests(nock(US).post('/v1/batch').reply(200, { success: true }))
    const delivery = await deliverSourcePayload(source, submitted, settings)
    expect(delivery.messages.map((message) => message.type)).toStrictEqual(['identify', 'track'])
    expect((onlyRequest(requests).body as { batch: { event?: string }[] }).batch[1]?.event).toBe(
      'Submitted Preferences'
    )
    await expect(deliverSourcePayload(source, { ...submitted, type: 'deleted' }, settings)).rejects.toThrow(
      /^One Creation payload: type /
    )
  })
})

describe('One Creation connect', () => {
  const cdn = () => nock('https://cdn.segment.com').get('/v1/projects/wk_one_creation/settings')
  const profile = (host: string) =>
    nock(host)
      .get('/v1/spaces/spa_w3sTlv2fRs/collections/users/profiles/user_id:one-creation-connection-check/traits')
      .query({ limit: '1' })

  it('is connected when the write key names a source and the Profile API knows the token and space', async () => {
    cdn().reply(200, { integrations: {} })
    profile('https://profiles.segment.com')
      .matchHeader('authorization', basicAuthorization('pat_one_creation'))
      .reply(404, notFound)
    await expect(connect(settings)).resolves.toStrictEqual({ connected: true, message: 'You are connected to Segment' })
  })

  it.each([
    ['a 404 that is not Segment’s “profile not found”', { error: { code: 'not_found', message: 'Space not found.' } }],
    ['a 404 without Segment’s error body', '404 page not found']
  ])('tells “no such space” apart from success: %s', async (_name, body) => {
    cdn().reply(200, { integrations: {} })
    profile('https://profiles.segment.com').reply(404, body)
    await expect(connect(settings)).resolves.toStrictEqual({
      connected: false,
      field: 'space_id',
      reason: 'Segment has no space with this id'
    })
  })

  it('names the write key when no source has it', async () => {
    cdn().reply(404, 'Not Found')
    await expect(connect(settings)).resolves.toStrictEqual({
      connected: false,
      field: 'write_key',
      reason: 'No Segment source has this write key'
    })
  })

  it('names the access token when neither region accepts it', async () => {
    cdn().reply(200, {})
    profile('https://profiles.segment.com').reply(401, {
      error: { code: 'authentication_error', message: 'Unauthorized' }
    })
    profile('https://profiles.euw1.segment.com').reply(401, {
      error: { code: 'authentication_error', message: 'Unauthorized' }
    })
    await expect(connect(settings)).resolves.toStrictEqual({
      connected: false,
      field: 'access_token',
      reason: 'Segment does not accept this access token'
    })
  })

  it('names the space id when the token is not valid for it', async () => {
    cdn().reply(200, {})
    profile('https://profiles.segment.com').reply(403, {
      error: { code: 'authentication_error', message: 'Forbidden' }
    })
    profile('https://profiles.euw1.segment.com').reply(401, {
      error: { code: 'authentication_error', message: 'Unauthorized' }
    })
    await expect(connect(settings)).resolves.toStrictEqual({
      connected: false,
      field: 'space_id',
      reason: 'The access token is not valid for this space id'
    })
  })

  it('names the region when the other region accepts the token', async () => {
    cdn().reply(200, {})
    profile('https://profiles.segment.com').reply(401, {
      error: { code: 'authentication_error', message: 'Unauthorized' }
    })
    profile('https://profiles.euw1.segment.com').reply(404, notFound)
    await expect(connect(settings)).resolves.toStrictEqual({
      connected: false,
      field: 'region',
      reason: 'The workspace is in the EU region, not US'
    })
  })

  it('names an invalid setting without calling Segment', async () => {
    await expect(connect({ ...settings, region: 'ap' })).resolves.toStrictEqual({
      connected: false,
      field: 'region',
      reason: 'region must be "us" (the default) or "eu", the region of your Segment workspace'
    })
  })

  it('reports Segment being unreachable as retryable, not as a wrong field', async () => {
    cdn().reply(503, 'unavailable')
    await expect(connect(settings)).resolves.toMatchObject({ connected: false, retryable: true })
  })
})
