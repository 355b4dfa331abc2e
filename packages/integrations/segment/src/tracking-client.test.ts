import { describe, expect, it } from '@jest/globals'
import { IntegrationError, PayloadValidationError } from '@segment/actions-core'
import { basicAuthorization, VendorRetryableError } from '@open-actions/core'
import { captureRequests, onlyRequest, pickHeaders, useStrictNock } from '@open-actions/testing'
import nock from 'nock'
import success from './__fixtures__/tracking-success.json'
import { deriveMessageId, MessageTooLargeError } from './segment-message'
import { createSegmentClient } from './tracking-client'

useStrictNock()

const US = 'https://api.segment.io'
const EU = 'https://events.eu1.segmentapis.com'
const now = () => new Date('2024-05-01T12:00:00.000Z')
const client = createSegmentClient({ writeKey: 'wk_live_123', now })

describe('Segment Tracking API client', () => {
  it('sends an identify to the US host with Basic auth (write key, empty password) and a derived messageId', async () => {
    const requests = captureRequests(nock(US).post('/v1/identify').reply(200, success))
    const sent = await client.identify({ userId: 'u-1', traits: { email: 'jane@example.com' } })
    const request = onlyRequest(requests)
    expect(request.url).toBe(`${US}/v1/identify`)
    expect(pickHeaders(request, ['authorization', 'content-type'])).toStrictEqual({
      authorization: `Basic ${Buffer.from('wk_live_123:').toString('base64')}`,
      'content-type': 'application/json'
    })
    const expectedId = deriveMessageId({
      type: 'identify',
      userId: 'u-1',
      traits: { email: 'jane@example.com' },
      timestamp: '2024-05-01T12:00:00.000Z'
    })
    expect(request.body).toStrictEqual({
      userId: 'u-1',
      traits: { email: 'jane@example.com' },
      timestamp: '2024-05-01T12:00:00.000Z',
      messageId: expectedId
    })
    expect(sent).toStrictEqual({
      type: 'identify',
      userId: 'u-1',
      traits: { email: 'jane@example.com' },
      timestamp: '2024-05-01T12:00:00.000Z',
      messageId: expectedId
    })
  })

  it('sends every call type to its own path on the EU host, keeping a given messageId and normalising timestamps', async () => {
    const eu = createSegmentClient({ writeKey: 'wk_eu', region: 'eu', now })
    const requests = captureRequests(
      nock(EU)
        .post(/^\/v1\/(track|page|screen|group|alias)$/)
        .times(5)
        .reply(200, success)
    )
    const base = { userId: 'u-1', messageId: 'm-1', timestamp: '2024-05-01T14:00:00+02:00' }
    await eu.track({ ...base, event: 'Signed Up', properties: { plan: 'pro' } })
    await eu.page({ ...base, name: 'Pricing' })
    await eu.screen({ ...base, name: 'Home' })
    await eu.group({ ...base, groupId: 'g-1', traits: { name: 'Initech' } })
    await eu.alias({ ...base, previousId: 'anon-1' })
    expect(requests.map((request) => request.url)).toStrictEqual(
      ['track', 'page', 'screen', 'group', 'alias'].map((path) => `${EU}/v1/${path}`)
    )
    const common = { userId: 'u-1', messageId: 'm-1', timestamp: '2024-05-01T12:00:00.000Z' }
    expect(requests.map((request) => request.body)).toStrictEqual([
      { ...common, event: 'Signed Up', properties: { plan: 'pro' } },
      { ...common, name: 'Pricing' },
      { ...common, name: 'Home' },
      { ...common, groupId: 'g-1', traits: { name: 'Initech' } },
      { ...common, previousId: 'anon-1' }
    ])
    expect(requests[0]?.headers.authorization).toBe(basicAuthorization('wk_eu'))
  })

  it('gives a retried message the same messageId, so Segment deduplicates it', async () => {
    nock(US).post('/v1/track').times(2).reply(200, success)
    const first = await client.track({ userId: 'u-1', event: 'Clicked', timestamp: '2024-05-01T12:00:00Z' })
    const second = await client.track({ userId: 'u-1', event: 'Clicked', timestamp: '2024-05-01T12:00:00Z' })
    expect(second.messageId).toBe(first.messageId)
    expect(first.messageId).toMatch(/^oa-[0-9a-f]{32}$/)
  })

  it('rejects a message over 32 KB, naming it and its size, and never sends it', async () => {
    const huge = { userId: 'u-1', messageId: 'big-1', event: 'Huge', properties: { blob: 'x'.repeat(33_000) } }
    await expect(client.track(huge)).rejects.toThrow(MessageTooLargeError)
    await expect(client.track(huge)).rejects.toThrow(
      /^Segment message big-1 is 33\d{3} bytes; the Tracking API accepts at most 32768 bytes per message$/
    )
  })

  it('names the field for an invalid message', async () => {
    await expect(client.track({ event: 'No One' })).rejects.toThrow(
      new PayloadValidationError('Segment message: userId needs a userId or an anonymousId')
    )
    await expect(client.send({ type: 'alias', anonymousId: 'a', previousId: 'p' })).rejects.toThrow(
      'Segment message: userId is required for alias'
    )
    await expect(client.track({ userId: 'u', event: 'x', timestamp: 'yesterday' })).rejects.toThrow(
      'timestamp must be an ISO 8601 timestamp'
    )
  })

  it('maps 400 to a non-retryable error with Segment’s message, 429 and 5xx to retryable', async () => {
    nock(US).post('/v1/track').reply(400, { success: false, message: 'Invalid JSON' })
    const badRequest = client.track({ userId: 'u', event: 'x' })
    await expect(badRequest).rejects.toThrow(
      new IntegrationError('Segment rejected the request (HTTP 400): Invalid JSON', 'BAD_REQUEST', 400)
    )
    await expect(badRequest).rejects.not.toBeInstanceOf(VendorRetryableError)
    nock(US).post('/v1/track').reply(429, 'Too Many Requests', { 'Retry-After': '4' })
    await expect(client.track({ userId: 'u', event: 'x' })).rejects.toMatchObject({
      name: 'VendorRetryableError',
      status: 429,
      retryAfterMs: 4000
    })
    nock(US).post('/v1/track').reply(503, 'unavailable')
    await expect(client.track({ userId: 'u', event: 'x' })).rejects.toBeInstanceOf(VendorRetryableError)
  })
})

describe('Segment Tracking API batches', () => {
  it('splits a batch at 500 KB per request and keeps every request within the limit', async () => {
    const requests = captureRequests(nock(US).post('/v1/batch').times(2).reply(200, success))
    // 40 messages of ~20 KB: 800 KB in all, so two requests.
    const messages = Array.from({ length: 40 }, (_, index) => ({
      type: 'track',
      userId: `u-${index}`,
      event: 'Bulk',
      messageId: `m-${index}`,
      properties: { blob: 'y'.repeat(20_000) }
    }))
    const result = await client.batch(messages)
    expect(result.requests).toBe(2)
    expect(result.outcomes.every((outcome) => outcome.ok)).toBe(true)
    const sizes = requests.map((request) => Buffer.byteLength(JSON.stringify(request.body)))
    for (const size of sizes) expect(size).toBeLessThanOrEqual(500 * 1024)
    const ids = requests.flatMap((request) =>
      (request.body as { batch: { messageId: string; type: string }[] }).batch.map((message) => message.messageId)
    )
    expect(ids).toStrictEqual(messages.map((message) => message.messageId))
    expect((requests[0]?.body as { batch: { type: string }[] }).batch[0]?.type).toBe('track')
  })

  it('sends a batch with Basic auth and JSON, its body the bytes JSON.stringify({ batch }) gives', async () => {
    let raw = ''
    const scope = nock(US).post('/v1/batch').reply(200, success)
    scope.on('request', (_request: unknown, _interceptor: unknown, body: string) => {
      raw = body
    })
    const requests = captureRequests(scope)
    const result = await client.batch([
      {
        type: 'track',
        userId: 'u-1',
        event: 'Zürich ✓',
        messageId: 'm-1',
        properties: { quote: '"\\', line: '\u2028' }
      },
      { type: 'identify', userId: 'u-2', traits: { email: 'jane@example.com' } }
    ])
    expect(pickHeaders(onlyRequest(requests), ['authorization', 'content-type'])).toStrictEqual({
      authorization: `Basic ${Buffer.from('wk_live_123:').toString('base64')}`,
      'content-type': 'application/json'
    })
    const sent = result.outcomes.map((outcome) => (outcome.ok ? outcome.sent : undefined))
    expect(sent.map((message) => (message as { messageId?: string } | undefined)?.messageId)).toStrictEqual([
      'm-1',
      deriveMessageId({
        type: 'identify',
        userId: 'u-2',
        traits: { email: 'jane@example.com' },
        timestamp: '2024-05-01T12:00:00.000Z'
      })
    ])
    expect(raw).toBe(JSON.stringify({ batch: sent }))
  })

  it('fails an invalid or oversized message alone and sends the others', async () => {
    const requests = captureRequests(nock(US).post('/v1/batch').reply(200, success))
    const result = await client.batch([
      { type: 'track', userId: 'u-1', event: 'Fine', messageId: 'ok-1' },
      { type: 'track', event: 'Nobody', messageId: 'bad-1' },
      { type: 'track', userId: 'u-2', event: 'Huge', messageId: 'big-1', properties: { blob: 'z'.repeat(40_000) } }
    ])
    expect(result.requests).toBe(1)
    expect(
      (onlyRequest(requests).body as { batch: { messageId: string }[] }).batch.map((message) => message.messageId)
    ).toStrictEqual(['ok-1'])
    expect(result.outcomes.map((outcome) => (outcome.ok ? 'ok' : `${outcome.status}`))).toStrictEqual([
      'ok',
      '400',
      '400'
    ])
  })
})
