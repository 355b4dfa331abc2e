import { describe, expect, it } from '@jest/globals'
import { defaultValues } from '@segment/actions-core'
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
import deleted from '../__fixtures__/attribute-delete-success.json'
import success from '../__fixtures__/upsert-success.json'
import { audiences } from './destination'
import { syncAudience } from './sync-audience'

useStrictNock()

const HOST = 'https://unification.useinsider.com'
const settings = { account_name: 'MyStore', ucd_key: 'ucd_secret_key' }
const identifiers = { uuid: 'user-1234', email: 'jane.doe@example.com', custom: { segment_anonymous_id: 'anon-5678' } }
const TS = '2024-05-01T12:00:00Z'

describe('Insider Audiences presets through Destination.onEvent', () => {
  it('an identify entering an audience appends its key to segment_audience_name, without X-PLATFORM-NAME', async () => {
    const requests = captureRequests(nock(HOST).post('/api/user/v1/upsert').reply(200, success))
    await runPresets(audiences, events.audienceIdentifyEvent('vip_users', true), settings)
    const request = onlyRequest(requests)
    expect(pickHeaders(request, ['x-partner-name', 'x-request-token', 'x-platform-name'])).toStrictEqual({
      'x-partner-name': 'mystore',
      'x-request-token': 'ucd_secret_key',
      'x-platform-name': undefined
    })
    expect(request.body).toStrictEqual({
      platform: 'segment',
      users: [{ identifiers, attributes: { custom: { segment_audience_name: ['vip_users'] } }, not_append: false }]
    })
  })

  it('an identify exiting an audience removes only that key through attribute/delete', async () => {
    const requests = captureRequests(nock(HOST).post('/api/user/v1/attribute/delete').reply(200, deleted))
    await runPresets(audiences, events.audienceIdentifyEvent('vip_users', false), settings)
    expect(onlyRequest(requests).body).toStrictEqual({
      users: [{ identifiers, custom: { partial: { segment_audience_name: ['vip_users'] } } }]
    })
  })

  it('Audience Entered adds the key and records audience_entered with segment_engage_name', async () => {
    const requests = captureRequests(nock(HOST).post('/api/user/v1/upsert').reply(200, success))
    await runPresets(audiences, events.audienceTrackEvent('vip_users', true), settings)
    expect(onlyRequest(requests).body).toStrictEqual({
      platform: 'segment',
      users: [
        {
          identifiers,
          attributes: { custom: { segment_audience_name: ['vip_users'] } },
          events: [
            {
              event_name: 'audience_entered',
              timestamp: TS,
              event_params: { custom: { segment_engage_name: 'vip_users' } }
            }
          ],
          not_append: false
        }
      ]
    })
  })

  it('Audience Exited removes the key first, then records audience_exited', async () => {
    const deletions = captureRequests(nock(HOST).post('/api/user/v1/attribute/delete').reply(200, deleted))
    const upserts = captureRequests(nock(HOST).post('/api/user/v1/upsert').reply(200, success))
    await runPresets(audiences, events.audienceTrackEvent('vip_users', false), settings)
    expect(onlyRequest(deletions).body).toStrictEqual({
      users: [{ identifiers, custom: { partial: { segment_audience_name: ['vip_users'] } } }]
    })
    expect(onlyRequest(upserts).body).toStrictEqual({
      platform: 'segment',
      users: [
        {
          identifiers,
          events: [
            {
              event_name: 'audience_exited',
              timestamp: TS,
              event_params: { custom: { segment_engage_name: 'vip_users' } }
            }
          ]
        }
      ]
    })
  })

  it('a computed trait (class computed_trait) becomes the custom attribute segment_io_<key>, by identify or by track', async () => {
    const requests = captureRequests(nock(HOST).post('/api/user/v1/upsert').times(2).reply(200, success))
    await runPresets(audiences, events.computedTraitIdentifyEvent('lifetime_value', 420), settings)
    await runPresets(audiences, events.computedTraitTrackEvent('lifetime_value', 420), settings)
    expect(requests.map((request) => request.body)).toStrictEqual([
      {
        platform: 'segment',
        users: [{ identifiers, attributes: { custom: { segment_io_lifetime_value: 420 } }, not_append: true }]
      },
      {
        platform: 'segment',
        users: [
          {
            identifiers,
            attributes: { custom: { segment_io_lifetime_value: 420 } },
            events: [
              {
                event_name: 'trait_computed',
                timestamp: TS,
                event_params: { custom: { segment_engage_name: 'lifetime_value' } }
              }
            ],
            not_append: true
          }
        ]
      }
    ])
  })

  it('does not guess at an unknown computation class: not subscribed by the preset, refused by name otherwise', async () => {
    const event = events.audienceIdentifyEvent('vip_users', true, {
      context: { personas: { computation_class: 'trait', computation_key: 'vip_users' } }
    })
    await expect(runPresets(audiences, event, settings)).resolves.toStrictEqual([{ output: 'not subscribed' }])
    const everyIdentify = [
      {
        partnerAction: 'syncAudience',
        subscribe: 'type = "identify"',
        mapping: defaultValues(syncAudience.fields)
      }
    ]
    await expect(runPresets(audiences, event, settings, everyIdentify)).rejects.toThrow(
      'Computation Class must be one of: "audience", "computed_trait", or "journey_step".'
    )
  })
})

describe('Insider Audiences batches through Destination.onBatch', () => {
  it('sends one removal request and one upsert request for a mixed batch, one result per event', async () => {
    const deletions = captureRequests(nock(HOST).post('/api/user/v1/attribute/delete').reply(200, deleted))
    const upserts = captureRequests(nock(HOST).post('/api/user/v1/upsert').reply(200, success))
    const batch = [
      events.audienceIdentifyEvent('vip_users', true, { userId: 'a' }),
      events.audienceIdentifyEvent('vip_users', false, { userId: 'b' }),
      events.computedTraitIdentifyEvent('lifetime_value', 9, { userId: 'c' })
    ]
    const results = await runPresetsBatch(audiences, batch, settings)
    expect(
      (onlyRequest(deletions).body as { users: { identifiers: { uuid: string } }[] }).users.map(
        (user) => user.identifiers.uuid
      )
    ).toStrictEqual(['b'])
    expect(
      (onlyRequest(upserts).body as { users: { identifiers: { uuid: string } }[] }).users.map(
        (user) => user.identifiers.uuid
      )
    ).toStrictEqual(['a', 'c'])
    expect(results.flatMap((result) => result.multistatus ?? []).map((entry) => entry.status)).toStrictEqual([
      200, 200, 200
    ])
  })
})
