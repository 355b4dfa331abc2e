import { describe, expect, it } from '@jest/globals'
import { InvalidAuthenticationError } from '@segment/actions-core'
import { basicAuthorization, VendorRetryableError } from '@open-actions/core'
import { captureRequests, onlyRequest, useStrictNock } from '@open-actions/testing'
import nock from 'nock'
import externalIds from './__fixtures__/profile-external-ids.json'
import notFound from './__fixtures__/profile-not-found.json'
import rateLimited from './__fixtures__/profile-rate-limited.json'
import page1 from './__fixtures__/profile-traits-page-1.json'
import page2 from './__fixtures__/profile-traits-page-2.json'
import page3 from './__fixtures__/profile-traits-page-3.json'
import unauthorized from './__fixtures__/profile-unauthorized.json'
import { createProfileClient, ProfileNotFoundError } from './profile-client'

useStrictNock()

const US = 'https://profiles.segment.com'
const EU = 'https://profiles.euw1.segment.com'
const SPACE = '/v1/spaces/spa_w3sTlv2fRs/collections/users/profiles'
const profiles = createProfileClient({ accessToken: 'pat_secret', spaceId: 'spa_w3sTlv2fRs' })
const user = { type: 'user_id', value: 'mrpink' }

describe('Segment Profile API client', () => {
  it('reads traits with Basic auth (token as user name) and the query options', async () => {
    const requests = captureRequests(
      nock(US)
        .get(`${SPACE}/user_id:mrpink/traits`)
        .query({ limit: '200', include: 'first_name,company', class: 'computed_trait', verbose: 'true' })
        .reply(200, page3)
    )
    const page = await profiles.traits(user, {
      limit: 200,
      include: ['first_name', 'company'],
      class: 'computed_trait',
      verbose: true
    })
    expect(page).toStrictEqual({ data: { vip: true }, cursor: page3.cursor })
    expect(onlyRequest(requests).headers.authorization).toBe(basicAuthorization('pat_secret'))
  })

  it('URL-encodes identifiers (+ becomes %2B) and uses the EU host', async () => {
    const eu = createProfileClient({ accessToken: 't', spaceId: 'spa_w3sTlv2fRs', region: 'eu' })
    const requests = captureRequests(
      nock(EU).get(`${SPACE}/email:a%2Bb%40example.com/external_ids`).reply(200, externalIds)
    )
    const page = await eu.externalIds({ type: 'email', value: 'a+b@example.com' })
    expect(onlyRequest(requests).url).toBe(`${EU}${SPACE}/email:a%2Bb%40example.com/external_ids`)
    expect(page.data).toStrictEqual(externalIds.data)
  })

  it('reads events, metadata and links, and account profiles', async () => {
    nock(US)
      .get(`${SPACE}/user_id:mrpink/events`)
      .query({ limit: '5', sort: 'desc' })
      .reply(200, { data: [{ type: 'track', event: 'Clicked' }], cursor: { has_more: false, next: '' } })
    nock(US)
      .get(`${SPACE}/user_id:mrpink/metadata`)
      .reply(200, { metadata: { created_at: '2024-05-01T12:00:00Z' } })
    nock(US)
      .get('/v1/spaces/spa_w3sTlv2fRs/collections/accounts/profiles/group_id:g-1/links')
      .reply(200, { data: [], cursor: { has_more: false, next: '' } })
    expect((await profiles.events(user, { limit: 5, sort: 'desc' })).data).toStrictEqual([
      { type: 'track', event: 'Clicked' }
    ])
    expect((await profiles.metadata(user)).data).toStrictEqual({ created_at: '2024-05-01T12:00:00Z' })
    expect((await profiles.links({ type: 'group_id', value: 'g-1', collection: 'accounts' })).data).toStrictEqual([])
  })

  it('paginates through next until has_more is false', async () => {
    nock(US).get(`${SPACE}/user_id:mrpink/traits`).query({ limit: '2' }).reply(200, page1)
    nock(US).get(`${SPACE}/user_id:mrpink/traits`).query({ limit: '2', next: 'company' }).reply(200, page2)
    nock(US).get(`${SPACE}/user_id:mrpink/traits`).query({ limit: '2', next: 'plan' }).reply(200, page3)
    const collected: unknown[] = []
    for await (const page of profiles.pages(user, 'traits', { limit: 2 })) collected.push(page.data)
    expect(collected).toStrictEqual([page1.traits, page2.traits, page3.traits])
  })

  it('tells a missing profile apart from bad credentials and from rate limiting', async () => {
    nock(US).get(`${SPACE}/user_id:nobody/traits`).reply(404, notFound)
    const missing = profiles.traits({ type: 'user_id', value: 'nobody' })
    await expect(missing).rejects.toBeInstanceOf(ProfileNotFoundError)
    await expect(missing).rejects.toThrow(
      'Segment Profile API rejected the request (HTTP 404): Profile was not found. (user_id:nobody)'
    )
    nock(US).get(`${SPACE}/user_id:mrpink/traits`).reply(401, unauthorized)
    await expect(profiles.traits(user)).rejects.toBeInstanceOf(InvalidAuthenticationError)
    nock(US).get(`${SPACE}/user_id:mrpink/traits`).reply(429, rateLimited, { 'Retry-After': '1' })
    await expect(profiles.traits(user)).rejects.toMatchObject({
      constructor: VendorRetryableError,
      retryAfterMs: 1000,
      message: 'Segment Profile API answered HTTP 429: Too many requests.'
    })
  })
})
