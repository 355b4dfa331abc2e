import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  createRequestClient,
  IntegrationError,
  InvalidAuthenticationError,
  MultiStatusResponse
} from '@segment/actions-core'
import nock from 'nock'
import { VendorRetryableError } from './errors'
import { chunkByLimits, errorForResponse, multiStatusFromOutcomes, sendVendorRequest } from './http'

const context = { vendor: 'Example', readMessage: (body: unknown) => (body as { error?: string } | undefined)?.error }
const response = (status: number, data: unknown, headers: Record<string, string> = {}) => ({
  status,
  data,
  headers: { get: (name: string) => headers[name.toLowerCase()] ?? null }
})

let resettingServer: Server
let resettingUrl = ''

beforeAll(async () => {
  if (!nock.isActive()) nock.activate()
  nock.disableNetConnect()
  nock.enableNetConnect('127.0.0.1')
  // A real server that drops every connection: what a vendor's load balancer does under a reset.
  resettingServer = createServer((request) => request.socket.destroy())
  await new Promise<void>((resolve) => resettingServer.listen(0, '127.0.0.1', resolve))
  resettingUrl = `http://127.0.0.1:${(resettingServer.address() as AddressInfo).port}/v1/reset`
})
afterAll(async () => {
  await new Promise((resolve) => resettingServer.close(resolve))
  nock.enableNetConnect()
  // See @open-actions/testing's useStrictNock: a nock left active would answer the next test file's requests.
  nock.restore()
})
afterEach(() => {
  expect(nock.pendingMocks()).toStrictEqual([])
  nock.cleanAll()
})

describe('errorForResponse', () => {
  it('maps nothing for 2xx', () => {
    expect(errorForResponse(response(202, {}), context)).toBeUndefined()
  })

  it('maps 401 and 403 to an authentication error carrying the vendor message', () => {
    for (const status of [401, 403]) {
      const error = errorForResponse(response(status, { error: 'bad partner' }), context)
      expect(error).toBeInstanceOf(InvalidAuthenticationError)
      expect(error).toMatchObject({
        status: 401,
        code: 'INVALID_AUTHENTICATION',
        message: `Example rejected the credentials (HTTP ${status}): bad partner`
      })
    }
  })

  it('maps 429 to retryable with Retry-After, and 5xx and 408 to retryable', () => {
    const limited = errorForResponse(
      response(429, { error: 'rejected: too many requests' }, { 'retry-after': '7' }),
      context
    )
    expect(limited).toBeInstanceOf(VendorRetryableError)
    expect(limited).toMatchObject({
      status: 429,
      retryAfterMs: 7000,
      message: 'Example answered HTTP 429: rejected: too many requests'
    })
    expect(errorForResponse(response(502, 'bad gateway'), context)).toMatchObject({
      status: 502,
      code: 'RETRYABLE_ERROR'
    })
    expect(errorForResponse(response(520, ''), context)).toMatchObject({ status: 500 })
    expect(errorForResponse(response(408, ''), context)).toBeInstanceOf(VendorRetryableError)
    // 423 is retryable here as everywhere else (the runtime's policy is the same function).
    expect(errorForResponse(response(423, { error: 'locked' }), context)).toMatchObject({
      status: 423,
      retryable: true,
      message: 'Example answered HTTP 423: locked'
    })
  })

  it('maps other 4xx to a non-retryable error with the vendor message', () => {
    const error = errorForResponse(response(400, { error: 'users must be defined: bad request' }), context)
    expect(error).toBeInstanceOf(IntegrationError)
    expect(error).not.toBeInstanceOf(VendorRetryableError)
    expect(error).toMatchObject({
      status: 400,
      code: 'BAD_REQUEST',
      message: 'Example rejected the request (HTTP 400): users must be defined: bad request'
    })
  })
})

describe('sendVendorRequest', () => {
  const request = createRequestClient({})

  it('returns the response on success', async () => {
    nock('https://api.example.com').post('/v1/ok', { a: 1 }).reply(200, { fine: true })
    const result = await sendVendorRequest(
      request,
      'https://api.example.com/v1/ok',
      { method: 'POST', json: { a: 1 } },
      context
    )
    expect(result.data).toStrictEqual({ fine: true })
  })

  it('throws the mapped error instead of a bare HTTPError', async () => {
    nock('https://api.example.com').post('/v1/limited').reply(429, { error: 'slow down' }, { 'Retry-After': '2' })
    await expect(
      sendVendorRequest(request, 'https://api.example.com/v1/limited', { method: 'POST', json: {} }, context)
    ).rejects.toMatchObject({
      name: 'VendorRetryableError',
      retryAfterMs: 2000
    })
  })

  it('reads answers larger than 16 KB (actions-core’s response cloning would stall on them; a fuzz finding)', async () => {
    const big = createServer((_request, response) => {
      response.writeHead(202, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ echoed: 'e'.repeat(64 * 1024) }))
    })
    await new Promise<void>((resolve) => big.listen(0, '127.0.0.1', resolve))
    try {
      const result = await sendVendorRequest<{ echoed: string }>(
        request,
        `http://127.0.0.1:${(big.address() as AddressInfo).port}/`,
        { method: 'PATCH', json: {} },
        context
      )
      expect(result.data.echoed).toHaveLength(64 * 1024)
    } finally {
      await new Promise((resolve) => big.close(resolve))
    }
  })

  it('turns a dropped connection into a retryable error', async () => {
    await expect(sendVendorRequest(request, resettingUrl, { method: 'POST', json: {} }, context)).rejects.toMatchObject(
      {
        name: 'VendorRetryableError',
        status: 503,
        message: expect.stringMatching(/^Example could not be reached: .*socket hang up/)
      }
    )
  })
})

describe('multiStatusFromOutcomes', () => {
  it('keeps one entry per record, in order, failures never counted as delivered', () => {
    const multiStatus = multiStatusFromOutcomes([
      { ok: true, sent: { a: 1 } },
      { ok: false, status: 400, message: 'users.1.events.0.event_params.currency.required', sent: { a: 2 } }
    ])
    expect(multiStatus).toBeInstanceOf(MultiStatusResponse)
    expect(multiStatus.length()).toBe(2)
    expect(multiStatus.getResponseAtIndex(0).value()).toStrictEqual({ status: 200, sent: { a: 1 }, body: 'accepted' })
    expect(multiStatus.getResponseAtIndex(1).value()).toStrictEqual({
      status: 400,
      errortype: 'BAD_REQUEST',
      errormessage: 'users.1.events.0.event_params.currency.required',
      sent: { a: 2 }
    })
  })
})

describe('chunkByLimits', () => {
  const size = (item: string) => JSON.stringify(item).length

  it('splits by item count', () => {
    expect(chunkByLimits(['a', 'b', 'c'], { maxItems: 2, maxBytes: 1000 }, size)).toStrictEqual([['a', 'b'], ['c']])
  })

  it('splits by bytes, counting separators and the envelope, and keeps each chunk within the limit', () => {
    const items = ['aaaa', 'bbbb', 'cccc'] // 6 bytes each as JSON
    const envelope = '{"batch":[]}'.length // 12
    const chunks = chunkByLimits(items, { maxItems: 100, maxBytes: 12 + 6 + 1 + 6, envelopeBytes: envelope }, size)
    expect(chunks).toStrictEqual([['aaaa', 'bbbb'], ['cccc']])
    for (const chunk of chunks) expect(JSON.stringify({ batch: chunk }).length).toBeLessThanOrEqual(25)
  })

  it('returns no chunks for no items', () => {
    expect(chunkByLimits([], { maxItems: 1, maxBytes: 1 }, size)).toStrictEqual([])
  })
})
