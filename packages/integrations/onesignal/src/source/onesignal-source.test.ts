import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from '@jest/globals'
import { basicAuthorization } from '@open-actions/core'
import { deliverSourcePayload } from '@open-actions/segment'
import { captureRequests, onlyRequest, pickHeaders, useStrictNock } from '@open-actions/testing'
import { Liquid } from 'liquidjs'
import nock from 'nock'
import { EVENT_STREAM_BODY_TEMPLATE } from './event-stream-template'
import { MESSAGE_EVENT_KINDS, MESSAGE_EVENT_NAMES, type MessageEventKind } from './message-events'
import { source } from './onesignal-source'

useStrictNock()

const settings = { write_key: 'wk_onesignal', region: 'us' }
const liquid = new Liquid()

/** What OneSignal fills in for one event (documentation.onesignal.com/docs/event-streams-data). */
function variables(kind: string) {
  const channel = kind.split('.')[1]
  const deviceType = channel === 'email' ? 'Email' : channel === 'sms' ? 'SMS' : 'iOS'
  return {
    event: {
      kind,
      id: '5c6c6ab3-1e3c-4f25-9d1b-8d3e2a8f7c10',
      timestamp: 1714564800,
      datetime: '2024-05-01T12:00:00.000Z',
      app_id: '00000000-0000-4000-8000-0000000a99a1',
      external_id: 'user-1234',
      subscription_id: '1dd608f2-c6a1-11e3-851d-000c2940e62c',
      onesignal_id: 'f3c4b1c2-3e91-4a3b-9b8a-4f1c2d3e4a5b',
      subscription_device_type: deviceType,
      ...(channel === 'iam'
        ? { data: { page_name: 'Welcome "card"', page_id: 'pg-1', target_name: 'Shop now', target_id: 'btn-2' } }
        : {})
    },
    message: {
      id: 'a8b1e9b0-5d3a-4c3e-b8c9-0f6c2f8b9e11',
      name: 'Spring sale',
      title: '20% off "today"',
      contents: 'Open the app\nto see the deals & more',
      template_id: '2c1f0e1a-8b7d-4e3a-9c6b-5a4d3c2b1a09'
    },
    subscription: { language: 'en' }
  }
}

/** The README's body template, rendered by a Liquid engine as OneSignal renders it, then parsed as the runtime does. */
async function rendered(kind: string, overrides: Record<string, unknown> = {}): Promise<unknown> {
  const body = await liquid.parseAndRender(EVENT_STREAM_BODY_TEMPLATE, { ...variables(kind), ...overrides })
  return JSON.parse(body)
}

function segment() {
  return captureRequests(nock('https://api.segment.io').post('/v1/batch').reply(200, { success: true }))
}

describe('OneSignal data out: the Event Stream body template, rendered, for every kind', () => {
  it('sends a push sent event as the seed’s Segment track: userId and anonymousId, UNIX time as ISO, every property', async () => {
    const requests = segment()
    await deliverSourcePayload(source, await rendered('message.push.sent'), settings)
    const request = onlyRequest(requests)
    expect(pickHeaders(request, ['authorization'])).toStrictEqual({ authorization: basicAuthorization('wk_onesignal') })
    expect(request.body).toStrictEqual({
      batch: [
        {
          type: 'track',
          event: 'Push Sent',
          userId: 'user-1234',
          anonymousId: '1dd608f2-c6a1-11e3-851d-000c2940e62c',
          messageId: 'onesignal-5c6c6ab3-1e3c-4f25-9d1b-8d3e2a8f7c10',
          timestamp: '2024-05-01T12:00:00.000Z',
          properties: {
            messageId: 'a8b1e9b0-5d3a-4c3e-b8c9-0f6c2f8b9e11',
            campaign_id: 'a8b1e9b0-5d3a-4c3e-b8c9-0f6c2f8b9e11',
            message_name: 'Spring sale',
            message_title: '20% off "today"',
            message_contents: 'Open the appto see the deals & more',
            message_type: 'push',
            template_id: '2c1f0e1a-8b7d-4e3a-9c6b-5a4d3c2b1a09',
            subscription_type: 'iOSPush',
            subscription_id: '1dd608f2-c6a1-11e3-851d-000c2940e62c',
            device_type: 'iOS',
            language: 'en',
            onesignal_id: 'f3c4b1c2-3e91-4a3b-9b8a-4f1c2d3e4a5b',
            app_id: '00000000-0000-4000-8000-0000000a99a1'
          },
          context: { integration: { name: 'onesignal', version: '1.0.0' } }
        }
      ]
    })
  })

  it.each(MESSAGE_EVENT_KINDS.slice(0, 16).map((kind) => [kind, MESSAGE_EVENT_NAMES[kind]]))(
    'seed kind %s → %s, synced by default',
    async (kind, name) => {
      const requests = segment()
      const delivery = await deliverSourcePayload(source, await rendered(kind), settings)
      expect(delivery.outcomes.map((outcome) => outcome.ok)).toStrictEqual([true])
      const [message] = (onlyRequest(requests).body as { batch: Record<string, unknown>[] }).batch
      const channel = kind.split('.')[1] ?? ''
      expect(message).toMatchObject({
        type: 'track',
        event: name,
        userId: 'user-1234',
        anonymousId: '1dd608f2-c6a1-11e3-851d-000c2940e62c',
        timestamp: '2024-05-01T12:00:00.000Z',
        properties: {
          message_type: { push: 'push', iam: 'in-app', email: 'email', sms: 'sms' }[channel],
          subscription_type: { push: 'iOSPush', iam: 'iOSPush', email: 'Email', sms: 'SMS' }[channel],
          message_title: '20% off "today"'
        }
      })
    }
  )

  it.each(MESSAGE_EVENT_KINDS.slice(16).map((kind) => [kind, MESSAGE_EVENT_NAMES[kind]]))(
    'other documented kind %s → %s: accepted, off by default, synced when chosen',
    async (kind, name) => {
      const off = await deliverSourcePayload(source, await rendered(kind), settings)
      expect(off).toStrictEqual({ messages: [], outcomes: [], requests: 0 })
      const requests = segment()
      await deliverSourcePayload(source, await rendered(kind), { ...settings, events: [name] })
      expect(
        (onlyRequest(requests).body as { batch: { event: string }[] }).batch.map((message) => message.event)
      ).toStrictEqual([name])
    }
  )

  it('in-app events carry the page and the element clicked', async () => {
    const requests = segment()
    await deliverSourcePayload(source, await rendered('message.iam.clicked'), settings)
    const [message] = (onlyRequest(requests).body as { batch: { properties: Record<string, unknown> }[] }).batch
    expect(message?.properties).toMatchObject({
      page_name: 'Welcome "card"',
      page_id: 'pg-1',
      target_name: 'Shop now',
      target_id: 'btn-2',
      message_type: 'in-app'
    })
  })

  it('a user without an external id is sent with the subscription id as anonymousId only', async () => {
    const requests = segment()
    const variablesWithoutUser = variables('message.email.opened')
    await deliverSourcePayload(
      source,
      await rendered('message.email.opened', { event: { ...variablesWithoutUser.event, external_id: '' } }),
      settings
    )
    const [message] = (onlyRequest(requests).body as { batch: Record<string, unknown>[] }).batch
    expect(message).toMatchObject({ event: 'Email Opened', anonymousId: '1dd608f2-c6a1-11e3-851d-000c2940e62c' })
    expect(message).not.toHaveProperty('userId')
  })

  it('reads the spellings OneSignal and earlier versions used, and the earlier body shape', async () => {
    const requests = captureRequests(
      nock('https://api.segment.io').post('/v1/batch').times(3).reply(200, { success: true })
    )
    for (const kind of ['message.email.bounced', 'message.iam.page_displayed'])
      await deliverSourcePayload(source, await rendered(kind), settings)
    await deliverSourcePayload(
      source,
      {
        event: { kind: 'message.push.clicked', id: 'evt-1', timestamp: '2024-05-01T12:00:00.000Z' },
        message: { id: 'msg-1', name: 'Spring sale', type: 'push' },
        subscription: { id: 'sub-1', type: 'iOSPush' },
        user: { external_id: 'user-1234' }
      },
      settings
    )
    expect(requests.map((request) => (request.body as { batch: { event: string }[] }).batch[0]?.event)).toStrictEqual([
      'Email Hardbounced',
      'In-App Message Page Displayed',
      'Push Clicked'
    ])
    expect((requests[2]?.body as { batch: Record<string, unknown>[] }).batch[0]).toMatchObject({
      userId: 'user-1234',
      anonymousId: 'sub-1',
      timestamp: '2024-05-01T12:00:00.000Z',
      properties: { subscription_type: 'iOSPush', message_type: 'push' }
    })
  })

  it('refuses an unknown kind, a bad timestamp or a malformed payload with a clear error, sending nothing', async () => {
    await expect(deliverSourcePayload(source, await rendered('message.fax.sent'), settings)).rejects.toThrow(
      /^event\.kind "message\.fax\.sent" is not a OneSignal message event; expected one of message\.push\.sent, /
    )
    const bad = (await rendered('message.push.sent')) as { event: Record<string, unknown> }
    await expect(
      deliverSourcePayload(source, { ...bad, event: { ...bad.event, timestamp: 'yesterday' } }, settings)
    ).rejects.toThrow(/^event\.timestamp "yesterday" is not a UNIX time in seconds/)
    await expect(deliverSourcePayload(source, { message: {} }, settings)).rejects.toThrow(
      /^OneSignal message events payload: event /
    )
    await expect(deliverSourcePayload(source, bad, { region: 'us' })).rejects.toThrow(/write_key/)
    await expect(deliverSourcePayload(source, bad, { ...settings, events: ['Fax Sent'] })).rejects.toThrow(
      /events\[0\]/
    )
  })

  it('the README ships exactly this template', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8')
    expect(readme).toContain(`\`\`\`liquid\n${EVENT_STREAM_BODY_TEMPLATE}\n\`\`\``)
  })

  it('names the kinds as OneSignal spells them', () => {
    const kinds: MessageEventKind[] = MESSAGE_EVENT_KINDS
    expect(kinds).toContain('message.iam.pagedisplayed')
    expect(kinds).toContain('message.email.hardbounced')
    expect(kinds).toHaveLength(21)
  })
})
