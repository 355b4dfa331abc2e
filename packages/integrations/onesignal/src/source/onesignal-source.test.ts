import { describe, expect, it } from '@jest/globals'
import { basicAuthorization } from '@open-actions/core'
import { deliverSourcePayload } from '@open-actions/segment'
import { captureRequests, onlyRequest, pickHeaders, useStrictNock } from '@open-actions/testing'
import nock from 'nock'
import pushSent from '../__fixtures__/event-stream-push-sent.json'
import { MESSAGE_EVENT_KINDS, MESSAGE_EVENT_NAMES } from './message-events'
import { source } from './onesignal-source'

useStrictNock()

const settings = { write_key: 'wk_onesignal', region: 'us' }

describe('OneSignal data out → Segment', () => {
  it('sends a push sent event as a Segment track with the seed’s properties', async () => {
    const requests = captureRequests(nock('https://api.segment.io').post('/v1/batch').reply(200, { success: true }))
    const delivery = await deliverSourcePayload(source, pushSent, settings)
    const request = onlyRequest(requests)
    expect(pickHeaders(request, ['authorization'])).toStrictEqual({ authorization: basicAuthorization('wk_onesignal') })
    expect(request.body).toStrictEqual({
      batch: [
        {
          type: 'track',
          event: 'Push Sent',
          userId: 'user-1234',
          messageId: 'onesignal-5c6c6ab3-1e3c-4f25-9d1b-8d3e2a8f7c10',
          timestamp: '2024-05-01T12:00:00.000Z',
          properties: {
            messageId: 'a8b1e9b0-5d3a-4c3e-b8c9-0f6c2f8b9e11',
            campaign_id: 'a8b1e9b0-5d3a-4c3e-b8c9-0f6c2f8b9e11',
            message_name: 'Spring sale',
            message_title: '20% off today',
            message_contents: 'Open the app to see the deals',
            message_type: 'push',
            template_id: '2c1f0e1a-8b7d-4e3a-9c6b-5a4d3c2b1a09',
            subscription_type: 'iOSPush',
            subscription_id: '1dd608f2-c6a1-11e3-851d-000c2940e62c',
            device_type: 'iOS',
            language: 'en',
            onesignal_id: 'f3c4b1c2-3e91-4a3b-9b8a-4f1c2d3e4a5b'
          },
          context: { integration: { name: 'onesignal', version: '1.0.0' } }
        }
      ]
    })
    expect(delivery.outcomes.map((outcome) => outcome.ok)).toStrictEqual([true])
  })

  it('names all 16 event kinds as the seed does', () => {
    expect(MESSAGE_EVENT_KINDS.map((kind) => MESSAGE_EVENT_NAMES[kind])).toStrictEqual([
      'Push Sent',
      'Push Received',
      'Push Clicked',
      'In-App Message Displayed',
      'In-App Message Clicked',
      'In-App Message Page Displayed',
      'Email Sent',
      'Email Opened',
      'Email Unsubscribed',
      'Email Received',
      'Email Reported As Spam',
      'Email Hardbounced',
      'Email Failed',
      'SMS Sent',
      'SMS Delivered',
      'SMS Failed'
    ])
  })

  it.each(MESSAGE_EVENT_KINDS.map((kind) => [kind, MESSAGE_EVENT_NAMES[kind]]))('maps %s to %s', (kind, name) => {
    const messages = source.toMessages(
      { ...pushSent, event: { ...pushSent.event, kind } },
      source.settingsSchema.parse(settings)
    )
    expect(messages.map((message) => message.event)).toStrictEqual([name])
  })

  it('uses the subscription id as anonymousId when there is no external id, and the EU host for eu', async () => {
    const requests = captureRequests(
      nock('https://events.eu1.segmentapis.com').post('/v1/batch').reply(200, { success: true })
    )
    await deliverSourcePayload(
      source,
      { ...pushSent, event: { ...pushSent.event, kind: 'message.email.opened' }, user: {} },
      { ...settings, region: 'eu' }
    )
    const [message] = (onlyRequest(requests).body as { batch: Record<string, unknown>[] }).batch
    expect(message).toMatchObject({ event: 'Email Opened', anonymousId: '1dd608f2-c6a1-11e3-851d-000c2940e62c' })
    expect(message).not.toHaveProperty('userId')
  })

  it('sends nothing for a kind the settings do not sync', async () => {
    const delivery = await deliverSourcePayload(source, pushSent, { ...settings, events: ['Email Opened'] })
    expect(delivery).toStrictEqual({ messages: [], outcomes: [], requests: 0 })
  })

  it('refuses an unknown kind or a malformed payload with a clear error, sending nothing', async () => {
    await expect(
      deliverSourcePayload(source, { ...pushSent, event: { ...pushSent.event, kind: 'message.fax.sent' } }, settings)
    ).rejects.toThrow(
      /^event\.kind "message\.fax\.sent" is not a OneSignal message event; expected one of message\.push\.sent, /
    )
    await expect(deliverSourcePayload(source, { message: {} }, settings)).rejects.toThrow(
      /^OneSignal message events payload: event /
    )
    await expect(deliverSourcePayload(source, pushSent, { region: 'us' })).rejects.toThrow(/write_key/)
    await expect(deliverSourcePayload(source, pushSent, { ...settings, events: ['Fax Sent'] })).rejects.toThrow(
      /events\[0\]/
    )
  })
})
