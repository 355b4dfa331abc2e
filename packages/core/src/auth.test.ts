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
import { InvalidSettingError } from './errors'
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
        message: 'Example rejected the credentials (HTTP 403): {"error":"bad token"}',
        // The credentials to look at: the definition's password settings.
        settings: ['api_key']
      }
    })
  })

  it('names the setting an InvalidSettingError names, and goes through a caller’s request client', async () => {
    const seen: string[] = []
    const named: DestinationDefinition<Settings> = {
      ...definition,
      authentication: {
        ...(definition.authentication as NonNullable<typeof definition.authentication>),
        testAuthentication: async (request, { settings }) => {
          await request('https://auth.example.com/v1/check')
          if (settings.api_id.includes(' ')) throw new InvalidSettingError('api_id', 'must not contain spaces')
        }
      }
    }
    const outcome = await testAuthentication(
      named,
      { api_id: 'my app', api_key: 'k' },
      {
        requestClient: (extendOptions) => async (url) => {
          seen.push(`${url} ${JSON.stringify(extendOptions.headers)}`)
          return new Response('{}') as never
        }
      }
    )
    expect(seen).toStrictEqual([
      `https://auth.example.com/v1/check {"Authorization":"${basicAuthorization('my app', 'k')}"}`
    ])
    expect(outcome).toStrictEqual({
      ok: false,
      error: {
        name: 'InvalidSettingError',
        code: 'INVALID_SETTING',
        status: 400,
        message: 'Invalid setting "api_id": must not contain spaces',
        settings: ['api_id']
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
        message: 'Example answered HTTP 503: down',
        // Not the settings' fault.
        settings: []
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
