import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import type { DestinationDefinition } from '@segment/actions-core'
import { InvalidAuthenticationError } from '@segment/actions-core'
import nock from 'nock'
import {
  basicAuthorization,
  bearerAuthorization,
  keyAuthorization,
  redactSettings,
  secretSettingKeys,
  testAuthentication
} from './auth'
import { sendVendorRequest } from './http'

interface Settings {
  api_id: string
  api_key: string
}

const definition: DestinationDefinition<Settings> = {
  name: 'Auth Test Vendor',
  mode: 'cloud',
  authentication: {
    scheme: 'custom',
    fields: {
      api_id: { label: 'API ID', description: 'id', type: 'string', required: true },
      api_key: { label: 'API key', description: 'key', type: 'password', required: true }
    },
    testAuthentication: async (request, { settings }) => {
      await sendVendorRequest(request, 'https://auth.example.com/v1/check', { method: 'GET' }, { vendor: 'Example' })
      return settings.api_id.length > 0
    }
  },
  extendRequest: ({ settings }) => ({
    headers: { Authorization: basicAuthorization(settings.api_id, settings.api_key) }
  }),
  actions: {}
}

beforeAll(() => {
  if (!nock.isActive()) nock.activate()
  nock.disableNetConnect()
})
// See @open-actions/testing's useStrictNock: a nock left active would answer the next test file's requests.
afterAll(() => {
  nock.enableNetConnect()
  nock.restore()
})
afterEach(() => {
  expect(nock.pendingMocks()).toStrictEqual([])
  nock.cleanAll()
})

describe('authorization headers', () => {
  it('builds Basic, Key and Bearer values', () => {
    expect(basicAuthorization('writeKey')).toBe(`Basic ${Buffer.from('writeKey:').toString('base64')}`)
    expect(basicAuthorization('app', 's3cret')).toBe('Basic YXBwOnMzY3JldA==')
    expect(keyAuthorization('abc')).toBe('Key abc')
    expect(bearerAuthorization('tok')).toBe('Bearer tok')
  })
})

describe('testAuthentication', () => {
  it('passes when the vendor accepts the credentials, sending the extended request headers', async () => {
    nock('https://auth.example.com')
      .get('/v1/check')
      .matchHeader('authorization', 'Basic YXBwOnMzY3JldA==')
      .reply(200, {})
    await expect(testAuthentication(definition, { api_id: 'app', api_key: 's3cret' })).resolves.toStrictEqual({
      ok: true
    })
  })

  it('keeps the error class, code and status that actions-core would flatten into a plain Error', async () => {
    nock('https://auth.example.com').get('/v1/check').reply(403, { error: 'bad token' })
    const outcome = await testAuthentication(definition, { api_id: 'app', api_key: 'wrong' })
    expect(outcome).toStrictEqual({
      ok: false,
      error: {
        name: 'VendorAuthenticationError',
        code: 'INVALID_AUTHENTICATION',
        status: 401,
        message: 'Example rejected the credentials (HTTP 403): {"error":"bad token"}'
      }
    })
  })

  it('treats a test that returns false as invalid credentials', async () => {
    nock('https://auth.example.com').get('/v1/check').reply(200, {})
    const outcome = await testAuthentication(definition, { api_id: '', api_key: 'k' })
    expect(outcome).toMatchObject({ ok: false, error: { code: 'INVALID_AUTHENTICATION', status: 401 } })
  })

  it('reports a retryable vendor failure as such, not as bad credentials', async () => {
    nock('https://auth.example.com').get('/v1/check').reply(503, 'down')
    const outcome = await testAuthentication(definition, { api_id: 'app', api_key: 'k' })
    expect(outcome).toStrictEqual({
      ok: false,
      error: {
        name: 'VendorRetryableError',
        code: 'RETRYABLE_ERROR',
        status: 503,
        message: 'Example answered HTTP 503: down'
      }
    })
    expect(new InvalidAuthenticationError('x').status).toBe(401)
  })
})

describe('secrets', () => {
  it('lists every password setting and redacts exactly those', () => {
    expect(secretSettingKeys(definition)).toStrictEqual(['api_key'])
    expect(redactSettings({ api_id: 'app', api_key: 's3cret' }, ['api_key'])).toStrictEqual({
      api_id: 'app',
      api_key: '[REDACTED]'
    })
    expect(redactSettings({ api_id: 'app', api_key: '' }, ['api_key'])).toStrictEqual({ api_id: 'app', api_key: '' })
  })
})
