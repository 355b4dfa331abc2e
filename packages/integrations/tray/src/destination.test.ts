import { createHmac } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from '@jest/globals'
import { Destination, type JSONObject } from '@segment/actions-core'
import { VendorRetryableError } from '@open-actions/core'
import { captureRequests, events, onlyRequest, pickHeaders, runPresets, useStrictNock } from '@open-actions/testing'
import nock from 'nock'
import { destination } from './destination'
import { signBody } from './tray-delivery'
import { guardedLookup } from './workflow-url'

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

  it('reports a failure at one workflow for that workflow, and a retry reaches only that workflow', async () => {
    nock(W1).post('/').reply(200, {})
    nock(W2).post('/').reply(503, 'Service Unavailable')
    nock(W3).post('/').reply(200, {})
    const event = events.trackEvent('Retried', {}, { messageId: 'msg-retry-1' })
    const failure = runPresets(destination, event, settings)
    await expect(failure).rejects.toBeInstanceOf(VendorRetryableError)
    await expect(failure).rejects.toThrow(
      `1 of 3 Tray workflows failed: ${W2}/ → Tray workflow ${W2} answered HTTP 503: Service Unavailable`
    )
    const retried = captureRequests(nock(W2).post('/').reply(200, {}))
    await runPresets(destination, event, settings)
    expect(onlyRequest(retried).body).toMatchObject({ messageId: 'msg-retry-1' })
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
    ['https://[fd00:ec2::254]/', 'fd00:ec2::254 is a private'],
    ['https://localhost:8443', 'localhost is a private'],
    ['https://metadata.google.internal/computeMetadata', 'metadata.google.internal is a private'],
    ['not a url', '"not a url" is not a URL']
  ])('refuses %s before sending anything', async (url, reason) => {
    await expect(runPresets(destination, events.trackEvent('X'), { workflows: [W1, url] })).rejects.toThrow(
      `Invalid setting "workflows[1].url": ${reason}`
    )
  })

  it('refuses more than 10 workflows instead of truncating', async () => {
    const workflows = Array.from({ length: 11 }, (_, index) => `https://w${index}.trayapp.io`)
    await expect(runPresets(destination, events.trackEvent('X'), { workflows })).rejects.toThrow(
      'Invalid setting "workflows": at most 10 workflows can receive messages; 11 are configured'
    )
  })

  it('refuses a name that resolves to a blocked address at connection time', async () => {
    const refusal = await new Promise<NodeJS.ErrnoException | null>((resolve) =>
      guardedLookup('localhost', {}, (error) => resolve(error))
    )
    expect(refusal).toMatchObject({
      code: 'EBLOCKEDADDRESS',
      message: expect.stringMatching(/^localhost resolves to (127\.0\.0\.1|::1), a private, loopback/)
    })
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
