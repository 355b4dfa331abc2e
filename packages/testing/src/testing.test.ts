import { describe, expect, it } from '@jest/globals'
import { createRequestClient } from '@segment/actions-core'
import fc from 'fast-check'
import nock from 'nock'
import { segmentEventArbitrary } from './arbitraries'
import { identifyEvent, orderCompletedEvent, trackEvent } from './events'
import { captureRequests, onlyRequest, pickHeaders, useStrictNock } from './nock-scope'

useStrictNock()

describe('event factories', () => {
  it('build deterministic Segment spec events with overrides', () => {
    expect(identifyEvent()).toStrictEqual(identifyEvent())
    expect(trackEvent('Signed Up', { plan: 'pro' }, { userId: 'u-9' })).toMatchObject({
      type: 'track',
      event: 'Signed Up',
      userId: 'u-9',
      properties: { plan: 'pro' },
      messageId: 'msg-track-0001'
    })
    expect(orderCompletedEvent().properties).toMatchObject({ order_id: '50314b8e9bcf000000000000', currency: 'USD' })
  })
})

describe('segmentEventArbitrary', () => {
  it('is reproducible from a seed and yields JSON objects with a type', () => {
    const first = fc.sample(segmentEventArbitrary, { seed: 42, numRuns: 20 })
    const second = fc.sample(segmentEventArbitrary, { seed: 42, numRuns: 20 })
    // Compared as JSON: generated keys such as "__proto__" are own properties that deep equality treats specially.
    expect(JSON.stringify(first)).toBe(JSON.stringify(second))
    for (const event of first) expect(typeof event.type).toBe('string')
  })
})

describe('captureRequests', () => {
  it('records the URL, headers and JSON body of each request', async () => {
    const requests = captureRequests(nock('https://api.example.com').post('/v1/things').query(true).reply(200, {}))
    await createRequestClient({})('https://api.example.com/v1/things?x=1', {
      method: 'POST',
      json: { a: 1 },
      headers: { Authorization: 'Key k' }
    })
    const request = onlyRequest(requests)
    expect(request.url).toBe('https://api.example.com/v1/things?x=1')
    expect(request.body).toStrictEqual({ a: 1 })
    expect(pickHeaders(request, ['authorization', 'x-missing'])).toStrictEqual({
      authorization: 'Key k',
      'x-missing': undefined
    })
  })

  it('onlyRequest fails when there is not exactly one request', () => {
    expect(() => onlyRequest([])).toThrow('Expected exactly one request, got 0: ')
  })
})
