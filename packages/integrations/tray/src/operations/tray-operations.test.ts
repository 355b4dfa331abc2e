import { describe, expect, it } from '@jest/globals'
import { basicAuthorization } from '@open-actions/core'
import { captureRequests, onlyRequest, useStrictNock } from '@open-actions/testing'
import nock from 'nock'
import { operations, runOperation } from './tray-operations'

useStrictNock()

const TRACKING = 'https://api.segment.io'
const PROFILES = 'https://profiles.segment.com'
const credentials = { write_key: 'wk_tray', profile_api_key: 'pat_tray', space_id: 'spa_1' }
const common = { user_id: 'u-1', message_id: 'm-1', timestamp: '2024-05-01T12:00:00.000Z' }
const sent = { userId: 'u-1', messageId: 'm-1', timestamp: '2024-05-01T12:00:00.000Z' }

describe('Tray Segment connector operations', () => {
  it('lists the connector’s ten operations', () => {
    expect(Object.keys(operations)).toStrictEqual([
      'alias',
      'batch',
      'group',
      'identify',
      'track',
      'page',
      'getProfileEvents',
      'getProfileExternalIds',
      'getProfileProperties',
      'getProfileTraits'
    ])
  })

  it('runs Alias, Group, Identify, Track and Page against the Tracking API with the write key', async () => {
    const requests = captureRequests(
      nock(TRACKING)
        .post(/^\/v1\/(alias|group|identify|track|page)$/)
        .times(5)
        .reply(200, { success: true })
    )
    await runOperation('alias', credentials, { ...common, previous_id: 'anon-1' })
    await runOperation('group', credentials, { ...common, group_id: 'g-1', traits: { plan: 'enterprise' } })
    await runOperation('identify', credentials, { ...common, traits: { email: 'a@example.com' } })
    await runOperation('track', credentials, { ...common, event: 'Workflow Ran', properties: { steps: 3 } })
    await runOperation('page', credentials, { ...common, name: 'Home' })
    expect(requests.map((request) => [request.url, request.body])).toStrictEqual([
      [`${TRACKING}/v1/alias`, { ...sent, previousId: 'anon-1' }],
      [`${TRACKING}/v1/group`, { ...sent, groupId: 'g-1', traits: { plan: 'enterprise' } }],
      [`${TRACKING}/v1/identify`, { ...sent, traits: { email: 'a@example.com' } }],
      [`${TRACKING}/v1/track`, { ...sent, event: 'Workflow Ran', properties: { steps: 3 } }],
      [`${TRACKING}/v1/page`, { ...sent, name: 'Home' }]
    ])
    expect(requests.every((request) => request.headers.authorization === basicAuthorization('wk_tray'))).toBe(true)
  })

  it('runs Batch through /v1/batch', async () => {
    const requests = captureRequests(
      nock('https://events.eu1.segmentapis.com').post('/v1/batch').reply(200, { success: true })
    )
    const result = await runOperation(
      'batch',
      { ...credentials, region: 'eu' },
      { batch: [{ type: 'track', userId: 'u', event: 'A', messageId: 'a' }] }
    )
    expect(onlyRequest(requests).body).toMatchObject({
      batch: [{ type: 'track', userId: 'u', event: 'A', messageId: 'a' }]
    })
    expect(result.requests).toBe(1)
  })

  it('runs the four Get Profile operations against the Profile API with the Personas key', async () => {
    const base = '/v1/spaces/spa_1/collections/users/profiles/user_id:u-1'
    const requests = captureRequests(
      nock(PROFILES)
        .get(`${base}/events`)
        .reply(200, { data: [{ event: 'A' }], cursor: { has_more: false, next: '' } })
        .get(`${base}/external_ids`)
        .reply(200, { data: [{ id: 'u-1', type: 'user_id' }], cursor: { has_more: false, next: '' } })
        .get(`${base}/metadata`)
        .reply(200, { metadata: { created_at: '2024-05-01T12:00:00Z' } })
        .get(`${base}/traits`)
        .query({ limit: '50' })
        .reply(200, { traits: { plan: 'pro' }, cursor: { has_more: false, next: '' } })
    )
    const input = { identifier_value: 'u-1' }
    expect((await runOperation('getProfileEvents', credentials, input)).data).toStrictEqual([{ event: 'A' }])
    expect((await runOperation('getProfileExternalIds', credentials, input)).data).toStrictEqual([
      { id: 'u-1', type: 'user_id' }
    ])
    expect((await runOperation('getProfileProperties', credentials, input)).data).toStrictEqual({
      created_at: '2024-05-01T12:00:00Z'
    })
    expect((await runOperation('getProfileTraits', credentials, { ...input, limit: 50 })).data).toStrictEqual({
      plan: 'pro'
    })
    expect(requests.every((request) => request.headers.authorization === basicAuthorization('pat_tray'))).toBe(true)
  })

  it('says which credential is missing for the Profile operations, and names the field of bad input', async () => {
    await expect(runOperation('getProfileTraits', { write_key: 'wk' }, { identifier_value: 'u-1' })).rejects.toThrow(
      'Get Profile Traits needs the Profile API credentials: profile_api_key and space_id is missing from the connector authentication'
    )
    await expect(runOperation('track', credentials, { user_id: 'u-1', event: '' })).rejects.toThrow(
      /^Track event input: event /
    )
    await expect(runOperation('track', { write_key: '' }, { user_id: 'u-1', event: 'A' })).rejects.toThrow(
      'Segment connector credentials: write_key is required: the write key of a Segment source'
    )
    await expect(runOperation('track', credentials, { event: 'Nobody' })).rejects.toThrow(
      'Segment message: userId needs a userId or an anonymousId'
    )
  })
})
