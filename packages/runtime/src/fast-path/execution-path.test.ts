import { afterEach, describe, expect, it } from '@jest/globals'
import type { EventResult } from '../store/results'
import { getJson, postJson, startTestRuntime } from '../runtime-harness.test-helpers'
import * as events from '@open-actions/testing/events'
import { presetSubscriptions } from '@open-actions/core'
import { registry } from '../start'

/*
 * Which path each subscription takes, as an operator sees it (`GET /v1/instances`), and that deliveries arrive the same
 * way through either: a fast-path instance, one configured onto actions-core, and a subscription whose mapping uses
 * what the fast path leaves to actions-core (`@liquid`) in the same instance as compiled ones.
 */

interface Listed {
  readonly id: string
  readonly actions: { readonly action: string; readonly path: string; readonly reason?: string }[]
}

let running: Awaited<ReturnType<typeof startTestRuntime>> | undefined

afterEach(async () => {
  await running?.stop()
  running = undefined
})

const MOENGAGE = { api_id: 'PATHWS', api_key: 'path-moe-key', region: 'DC_01' }

function preset(action: string) {
  const definition = registry.get('moengage')?.destinations.destination
  const found = definition ? presetSubscriptions(definition).find((entry) => entry.partnerAction === action) : undefined
  if (!found) throw new Error(`no MoEngage ${action} preset`)
  return found
}

describe('the execution path of each action', () => {
  it('is listed per subscription, falls back by itself where the fast path does not reach, and delivers through both', async () => {
    running = await startTestRuntime({
      writeKeys: {},
      sources: [],
      destinations: [
        { id: 'fast', integration: 'moengage', settings: MOENGAGE },
        { id: 'configured', integration: 'moengage', settings: MOENGAGE, executor: 'actions-core' },
        {
          id: 'liquid',
          integration: 'moengage',
          settings: MOENGAGE,
          subscriptions: [
            {
              ...preset('trackEvent'),
              name: 'Track with a liquid name',
              mapping: { ...preset('trackEvent').mapping, event_name: { '@liquid': '{{ event | upcase }}' } }
            },
            { ...preset('identifyUser'), name: 'Identify' }
          ]
        }
      ]
    })
    const listed = ((await getJson(`${running.url}/v1/instances`)).body as { destinations: Listed[] }).destinations
    const byId = new Map(listed.map((instance) => [instance.id, instance.actions]))
    expect(byId.get('fast')?.length).toBeGreaterThanOrEqual(2)
    expect(byId.get('fast')?.every((action) => action.path === 'compiled')).toBe(true)
    expect(byId.get('configured')?.map((action) => action.path)).toStrictEqual(
      byId.get('fast')?.map(() => 'actions-core')
    )
    expect(byId.get('configured')?.[0]?.reason).toBe('the configuration asks for it ("executor")')
    expect(byId.get('liquid')).toStrictEqual([
      {
        action: 'trackEvent',
        subscription: 'Track with a liquid name',
        path: 'actions-core',
        reason: 'the mapping uses the @liquid directive'
      },
      { action: 'identifyUser', subscription: 'Identify', path: 'compiled' }
    ])

    const sent = [
      events.trackEvent('Plan Chosen', { plan: 'pro' }, { messageId: 'path-track', userId: 'user-7' }),
      events.identifyEvent({ messageId: 'path-identify', userId: 'user-7' })
    ]
    expect((await postJson(`${running.url}/v1/events`, sent)).status).toBe(202)
    await running.runtime.drain()
    for (const id of ['path-track', 'path-identify']) {
      const result = (await getJson(`${running.url}/v1/events/${id}`)).body as EventResult
      // Each event reached all three instances, every delivery through the path listed for it.
      expect(new Set(result.targets.map((target) => target.instance))).toStrictEqual(
        new Set(['fast', 'configured', 'liquid'])
      )
      for (const target of result.targets)
        expect([target.instance, target.status]).toStrictEqual([target.instance, 'delivered'])
    }
    // The liquid mapping ran (inside actions-core): MoEngage got the event name upper-cased from that instance only.
    const deliveries = (
      (await getJson(`${running.url}/v1/deliveries?eventId=path-track`)).body as {
        deliveries: { instance: string; body: { elements?: { actions?: { action?: string }[] }[] } }[]
      }
    ).deliveries
    const names = deliveries.map((delivery) => [
      delivery.instance,
      JSON.stringify(delivery.body).includes('"PLAN CHOSEN"') ? 'upper' : 'as sent'
    ])
    expect(names.sort()).toStrictEqual([
      ['configured', 'as sent'],
      ['fast', 'as sent'],
      ['liquid', 'upper']
    ])
  })
})
