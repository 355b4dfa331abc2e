import { describe, expect, it } from '@jest/globals'
import type { SegmentEvent } from '@segment/actions-core'
import { basicAuthorization, testAuthentication } from '@open-actions/core'
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
import success from './__fixtures__/tracking-success.json'
import { destination } from './destination'

useStrictNock()

const settings = { write_key: 'wk_live_123', region: 'us' }
const US = 'https://api.segment.io'
const context = {
  ip: '203.0.113.7',
  library: { name: 'analytics.js', version: '2.11.1' },
  locale: 'en-US',
  userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)'
}
const common = { userId: 'user-1234', anonymousId: 'anon-5678', timestamp: '2024-05-01T12:00:00.000Z', context }

const cases: [string, SegmentEvent, Record<string, unknown>][] = [
  ['identify', events.identifyEvent(), { ...common, messageId: 'msg-identify-0001', traits: events.sampleTraits }],
  [
    'track',
    events.trackEvent('Signed Up', { plan: 'pro' }),
    { ...common, messageId: 'msg-track-0001', event: 'Signed Up', properties: { plan: 'pro' } }
  ],
  [
    'page',
    events.pageEvent(),
    {
      ...common,
      messageId: 'msg-page-0001',
      name: 'Pricing',
      properties: { path: '/pricing', url: 'https://example.com/pricing', title: 'Pricing' }
    }
  ],
  [
    'screen',
    events.screenEvent({ properties: { variant: 'b' } }),
    { ...common, messageId: 'msg-screen-0001', name: 'Home', properties: { variant: 'b' } }
  ],
  [
    'group',
    events.groupEvent(),
    { ...common, messageId: 'msg-group-0001', groupId: 'group-42', traits: { name: 'Initech', plan: 'enterprise' } }
  ],
  ['alias', events.aliasEvent(), { ...common, messageId: 'msg-alias-0001', previousId: 'anon-5678' }]
]

describe('Segment presets through Destination.onEvent', () => {
  it.each(cases)('forwards a %s call to its Tracking API endpoint', async (type, event, body) => {
    const requests = captureRequests(nock(US).post(`/v1/${type}`).reply(200, success))
    await runPresets(destination, event, settings)
    const request = onlyRequest(requests)
    expect(request.url).toBe(`${US}/v1/${type}`)
    expect(pickHeaders(request, ['authorization', 'content-type'])).toStrictEqual({
      authorization: basicAuthorization('wk_live_123'),
      'content-type': 'application/json'
    })
    expect(request.body).toStrictEqual(body)
  })

  it('sends to the EU host when the region is eu', async () => {
    const requests = captureRequests(nock('https://events.eu1.segmentapis.com').post('/v1/track').reply(200, success))
    await runPresets(destination, events.trackEvent('Signed Up'), { ...settings, region: 'eu' })
    expect(onlyRequest(requests).url).toBe('https://events.eu1.segmentapis.com/v1/track')
  })
})

describe('Segment presets through Destination.onBatch', () => {
  it('sends a batch of tracks in one /v1/batch request with one result per event', async () => {
    const requests = captureRequests(nock(US).post('/v1/batch').reply(200, success))
    const batch = [
      events.trackEvent('A', {}, { messageId: 'm-a' }),
      events.trackEvent('B', {}, { messageId: 'm-b' }),
      events.trackEvent('C', {}, { messageId: 'm-c' })
    ]
    const results = await runPresetsBatch(destination, batch, settings)
    const body = onlyRequest(requests).body as { batch: { type: string; event: string; messageId: string }[] }
    expect(body.batch.map((message) => [message.type, message.event, message.messageId])).toStrictEqual([
      ['track', 'A', 'm-a'],
      ['track', 'B', 'm-b'],
      ['track', 'C', 'm-c']
    ])
    const trackResult = results.find((result) => result.multistatus?.some((entry) => entry.status === 200))
    expect(trackResult?.multistatus?.map((entry) => entry.status)).toStrictEqual([200, 200, 200])
  })
})

describe('Segment authentication', () => {
  it('checks the write key against the CDN source settings', async () => {
    nock('https://cdn.segment.com').get('/v1/projects/wk_live_123/settings').reply(200, { integrations: {} })
    await expect(testAuthentication(destination, settings)).resolves.toStrictEqual({ ok: true })
    nock('https://cdn.segment.com').get('/v1/projects/wk_live_123/settings').reply(404, 'Not Found')
    await expect(testAuthentication(destination, settings)).resolves.toMatchObject({
      ok: false,
      error: {
        status: 404,
        message: 'Segment CDN rejected the request (HTTP 404): no Segment source has this write key'
      }
    })
  })
})
