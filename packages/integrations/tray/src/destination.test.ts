import { createHmac } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from '@jest/globals'
import { Destination, type JSONObject } from '@segment/actions-core'
import { testAuthentication, VendorRetryableError } from '@open-actions/core'
import {
  captureRequests,
  events,
  memoryStateContext,
  onlyRequest,
  pickHeaders,
  runPresets,
  useStrictNock
} from '@open-actions/testing'
import nock from 'nock'
import { destination } from './destination'
import { signBody } from './tray-delivery'
import { guardedLookup, isBlockedAddress } from '@open-actions/core'

useStrictNock()

const W1 = 'https://0d4f2a1e-workflow-one.trayapp.io'
const W2 = 'https://1b5e3c2f-workflow-two.trayapp.io'
const W3 = 'https://2c6f4d3a-workflow-three.trayapp.io'
const settings = { workflows: [W1, W2, W3], shared_secret: 'tray_shared_secret' }

function sendToWorkflows(mapping: JSONObject) {
  const preset = destination.presets?.[0]
  return [
    {
      partnerAction: 'sendToWorkflows',
      subscribe: 'type = "track" or type = "identify"',
      mapping: { ...(preset?.type === 'automatic' ? preset.mapping : {}), ...mapping }
    }
  ]
}

describe('Tray signature', () => {
  it('is the hex HMAC-SHA1 of the body (RFC 2202-style known vector)', () => {
    expect(signBody('The quick brown fox jumps over the lazy dog', 'key')).toBe(
      'de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9'
    )
  })
})

describe('Tray presets through Destination.onEvent', () => {
  it('POSTs the raw Segment message to every workflow, signed', async () => {
    const captured = [W1, W2, W3].map((url) => captureRequests(nock(url).post('/').reply(200, { ok: true })))
    const event = events.trackEvent('Signed Up', { plan: 'pro' })
    await runPresets(destination, event, settings)
    const requests = captured.map(onlyRequest)
    expect(requests.map((request) => request.url)).toStrictEqual([`${W1}/`, `${W2}/`, `${W3}/`])
    const expectedBody = JSON.stringify(event)
    for (const request of requests) {
      expect(request.body).toStrictEqual(event)
      expect(pickHeaders(request, ['content-type', 'x-signature'])).toStrictEqual({
        'content-type': 'application/json',
        'x-signature': createHmac('sha1', 'tray_shared_secret').update(expectedBody).digest('hex')
      })
    }
  })

  it('sends no signature without a shared secret', async () => {
    const requests = captureRequests(nock(W1).post('/').reply(200, {}))
    await runPresets(destination, events.identifyEvent(), { workflows: [W1] })
    expect(onlyRequest(requests).headers['x-signature']).toBeUndefined()
  })

  it('applies each subscription’s workflows, allowed events and channels', async () => {
    const requests = captureRequests(nock(W2).post('/').reply(200, {}))
    const subscriptions = sendToWorkflows({ workflows: [W2], allowed_events: ['identify'], channels: ['server'] })
    await runPresets(destination, events.trackEvent('Ignored', {}, { channel: 'server' }), settings, subscriptions)
    await runPresets(destination, events.identifyEvent({ channel: 'browser' }), settings, subscriptions)
    await runPresets(destination, events.identifyEvent({ channel: 'server' }), settings, subscriptions)
    expect(onlyRequest(requests).body).toMatchObject({ type: 'identify', channel: 'server' })
  })

  it('reports a failure at one workflow for that workflow, and a retry (same event, same state) reaches only that workflow', async () => {
    nock(W1).post('/').reply(200, {})
    nock(W2).post('/').reply(503, 'Service Unavailable')
    nock(W3).post('/').reply(200, {})
    const event = events.trackEvent('Retried', {}, { messageId: 'msg-retry-1' })
    const state = memoryStateContext()
    const failure = runPresets(destination, event, settings, undefined, { stateContext: state })
    await expect(failure).rejects.toBeInstanceOf(VendorRetryableError)
    await expect(failure).rejects.toThrow(
      `1 of 3 Tray workflows failed: ${W2}/ → Tray workflow ${W2} answered HTTP 503: Service Unavailable`
    )
    const retried = captureRequests(nock(W2).post('/').reply(200, {}))
    const results = await runPresets(destination, event, settings, undefined, { stateContext: state })
    expect(onlyRequest(retried).body).toMatchObject({ messageId: 'msg-retry-1' })
    expect(results.find((result) => result.data !== undefined)?.data).toStrictEqual({
      workflows: [
        { url: `${W1}/`, status: 'skipped' },
        { url: `${W2}/`, status: 200 },
        { url: `${W3}/`, status: 'skipped' }
      ]
    })
  })

  it('keeps no delivery state in the process: a re-sent message, and another tenant with the same URL, are delivered again', async () => {
    const first = captureRequests(nock(W1).post('/').times(3).reply(200, {}))
    const event = events.trackEvent('Sent Twice', {}, { messageId: 'msg-twice' })
    // Tenant A, then the same message sent again (a new event: a new state), then tenant B with the same workflow URL.
    await runPresets(destination, event, { workflows: [W1] }, undefined, { stateContext: memoryStateContext() })
    await runPresets(destination, event, { workflows: [W1] }, undefined, { stateContext: memoryStateContext() })
    await runPresets(destination, event, { workflows: [W1], shared_secret: 'tenant-b' }, undefined, {
      stateContext: memoryStateContext()
    })
    expect(first).toHaveLength(3)
  })

  it('without a stateContext (another runtime), a retry reaches every workflow again', async () => {
    nock(W1).post('/').reply(200, {})
    nock(W2).post('/').reply(503, 'down')
    const event = events.trackEvent('Plain Runtime', {}, { messageId: 'msg-plain' })
    await expect(runPresets(destination, event, { workflows: [W1, W2] })).rejects.toBeInstanceOf(VendorRetryableError)
    const again = [W1, W2].map((url) => captureRequests(nock(url).post('/').reply(200, {})))
    await runPresets(destination, event, { workflows: [W1, W2] })
    expect(again.map((requests) => requests.length)).toStrictEqual([1, 1])
  })

  it('accepts the classic integration’s sharedSecret as the shared secret', async () => {
    const requests = captureRequests(nock(W1).post('/').reply(200, {}))
    const event = events.identifyEvent()
    await runPresets(destination, event, { workflows: [W1], sharedSecret: 'classic-secret' })
    expect(onlyRequest(requests).headers['x-signature']).toBe(signBody(JSON.stringify(event), 'classic-secret'))
  })

  it('does not follow a redirect: the next hop would escape the URL check', async () => {
    nock(W1).post('/').reply(302, '', { location: 'https://169.254.169.254/latest/meta-data' })
    await expect(runPresets(destination, events.trackEvent('Redirected'), { workflows: [W1] })).rejects.toThrow(
      `1 of 1 Tray workflows failed: ${W1}/ → Tray workflow ${W1} rejected the request (HTTP 302)`
    )
  })

  it('fails without retry when a workflow refuses the message', async () => {
    nock(W1).post('/').reply(404, 'Not Found')
    await expect(
      runPresets(destination, events.trackEvent('X', {}, { messageId: 'msg-404' }), { workflows: [W1] })
    ).rejects.toMatchObject({
      status: 404,
      code: 'WORKFLOW_DELIVERY_FAILED',
      message: `1 of 1 Tray workflows failed: ${W1}/ → Tray workflow ${W1} rejected the request (HTTP 404): Not Found`
    })
  })
})

describe('Tray URL safety', () => {
  it.each([
    ['http://0d4f2a1e.trayapp.io', 'must use https (got http)'],
    ['https://127.0.0.1/hook', '127.0.0.1 is a private, loopback, link-local or metadata address'],
    ['https://10.1.2.3', '10.1.2.3 is a private'],
    ['https://192.168.1.20', '192.168.1.20 is a private'],
    ['https://169.254.169.254/latest/meta-data', '169.254.169.254 is a private'],
    ['https://[::1]/', '::1 is a private'],
    ['https://[::ffff:127.0.0.1]/', '::ffff:7f00:1 is a private'],
    ['https://[64:ff9b::a00:1]/', '64:ff9b::a00:1 is a private'],
    ['https://[2002:a00:1::]/', '2002:a00:1:: is a private'],
    ['https://[fd00:ec2::254]/', 'fd00:ec2::254 is a private'],
    ['https://localhost:8443', 'localhost is a private'],
    ['https://localhost.:8443', 'localhost is a private'],
    ['https://metadata/computeMetadata', 'metadata is a private'],
    ['https://metadata.google.internal/computeMetadata', 'metadata.google.internal is a private'],
    ['not a url', '"not a url" is not a URL']
  ])('skips %s with its reason, while the other workflows still receive', async (url, reason) => {
    const requests = captureRequests(nock(W1).post('/').reply(200, {}))
    const results = await runPresets(destination, events.trackEvent('X'), { workflows: [W1, url] })
    expect(onlyRequest(requests).url).toBe(`${W1}/`)
    const prefix = `Invalid setting "workflows[1].url": ${reason}`
    expect(results.find((result) => result.data !== undefined)?.data).toStrictEqual({
      workflows: [{ url: `${W1}/`, status: 200 }],
      skipped: [{ url, reason: expect.stringMatching(new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`)) }]
    })
  })

  it('refuses the event only when no workflow is usable, and the connection test names an invalid URL', async () => {
    await expect(runPresets(destination, events.trackEvent('X'), { workflows: ['https://10.0.0.1'] })).rejects.toThrow(
      'Invalid setting "workflows": no workflow URL can receive messages: Invalid setting "workflows[0].url": 10.0.0.1 is a private'
    )
    await expect(testAuthentication(destination, { workflows: [W1, 'https://10.0.0.1'] })).resolves.toMatchObject({
      ok: false,
      error: {
        message: expect.stringContaining('https://10.0.0.1: Invalid setting "workflows[1].url": 10.0.0.1 is a private')
      }
    })
    await expect(testAuthentication(destination, { workflows: [W1] })).resolves.toStrictEqual({ ok: true })
  })

  it('sends to the first 10 workflows of more, with a warning in the result', async () => {
    const workflows = Array.from({ length: 12 }, (_, index) => `https://w${index}.trayapp.io`)
    const captured = workflows.slice(0, 10).map((url) => captureRequests(nock(url).post('/').reply(200, {})))
    const results = await runPresets(destination, events.trackEvent('X'), { workflows })
    expect(captured.map((requests) => requests.length)).toStrictEqual(Array(10).fill(1))
    expect(results.find((result) => result.data !== undefined)?.data).toMatchObject({
      warnings: ['12 workflows are configured; only the first 10 receive messages'],
      skipped: [
        { url: 'https://w10.trayapp.io', reason: 'past the first 10 workflows' },
        { url: 'https://w11.trayapp.io', reason: 'past the first 10 workflows' }
      ]
    })
  })

  it('allows public addresses, IPv4 and IPv6, literal or mapped', async () => {
    for (const address of [
      '8.8.8.8',
      '1.1.1.1',
      '93.184.216.34',
      '::ffff:8.8.8.8',
      '2606:4700:4700::1111',
      '2a00:1450:4001::8a'
    ])
      expect([address, isBlockedAddress(address)]).toStrictEqual([address, false])
    for (const address of [
      '127.0.0.1',
      '::ffff:7f00:1',
      '::127.0.0.1',
      '64:ff9b::808:808',
      '2002:808:808::1',
      '2001:0:4136:e378::1',
      'fe80::1',
      '0.0.0.0',
      '224.0.0.1'
    ])
      expect([address, isBlockedAddress(address)]).toStrictEqual([address, true])
    const requests = captureRequests(nock('https://8.8.8.8').post('/hook').reply(200, {}))
    await runPresets(destination, events.trackEvent('Public'), { workflows: ['https://8.8.8.8/hook'] })
    expect(onlyRequest(requests).url).toBe('https://8.8.8.8/hook')
  })

  it('refuses a name that resolves to a blocked address, and allows one that resolves to a public one', async () => {
    const refusal = await new Promise<NodeJS.ErrnoException | null>((resolve) =>
      guardedLookup('localhost', {}, (error) => resolve(error))
    )
    expect(refusal).toMatchObject({
      code: 'EBLOCKEDADDRESS',
      message: expect.stringMatching(/^localhost resolves to (127\.0\.0\.1|::1), a private, loopback/)
    })
    const allowed = await new Promise<string>((resolve, reject) =>
      guardedLookup('8.8.8.8', {}, (error, address) => (error ? reject(error) : resolve(String(address))))
    )
    expect(allowed).toBe('8.8.8.8')
  })

  it('reaches a local http server only when insecure URLs are explicitly allowed', async () => {
    const received: string[] = []
    const server = createServer((request, response) => {
      let body = ''
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')))
      request.on('end', () => {
        received.push(body)
        response.writeHead(200).end('{}')
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const local = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`
    try {
      await expect(runPresets(destination, events.trackEvent('Local'), { workflows: [local] })).rejects.toThrow(
        'must use https'
      )
      await runPresets(destination, events.trackEvent('Local', {}, { messageId: 'msg-local' }), {
        workflows: [local],
        allow_insecure_urls: true
      })
      expect(received.map((body) => JSON.parse(body) as { event: string })).toMatchObject([{ event: 'Local' }])
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })
})

describe('Tray deletion', () => {
  it('forwards a deletion request to every workflow as { type: "delete", userId, timestamp }', async () => {
    const captured = [W1, W2].map((url) => captureRequests(nock(url).post('/').reply(200, {})))
    const destinationInstance = new Destination(destination)
    await destinationInstance.onDelete?.(events.trackEvent('ignored', {}, { userId: 'user-to-forget' }), {
      workflows: [W1, W2]
    })
    for (const requests of captured) {
      const body = onlyRequest(requests).body as { type: string; userId: string; timestamp: string }
      expect(body).toStrictEqual({
        type: 'delete',
        userId: 'user-to-forget',
        timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/)
      })
    }
  })
})
