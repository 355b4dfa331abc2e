import { describe, expect, it } from '@jest/globals'
import { createRequestClient, type JSONObject, type SegmentEvent } from '@segment/actions-core'
import { parseFql, validate } from '@segment/destination-subscriptions'
import { createRedactor, presetSubscriptions, type Subscription } from '@open-actions/core'
import { createSegmentClient } from '@open-actions/segment'
// The factories alone: the package index loads nock, which patches http.ClientRequest.
import * as events from '@open-actions/testing/events'
import { RuntimeMetrics } from '../metrics'
import { sampleConfig } from '../sample-config'
import type { WireRequest } from '../simulators/server'
import { registry } from '../start'
import { type ClientKind, runtimeRequestClient } from './attach-transport'
import { InstanceTransport } from './http-transport'
import { DeliveryRecorder } from './recorder'
import { startSandbox } from './sandbox'

/*
 * The runtime's request client must put on the wire exactly what actions-core's own client puts there: for every
 * preset of every integration, with every sample event the preset matches (one at a time, and as a batch where the
 * action batches), both clients send to the simulators and the requests they receive are compared — method, path,
 * Host, every header (name, value and order) except the connection-management ones, and the body's bytes.
 */

/** Events to try against each preset; each preset must match at least one. */
const CANDIDATES: readonly SegmentEvent[] = [
  events.identifyEvent(),
  events.trackEvent('Newsletter Signed Up', { plan: 'pro', amount: 12.5 }),
  events.trackEvent('User Registered', { method: 'email' }),
  events.pageEvent(),
  events.screenEvent(),
  events.groupEvent(),
  events.aliasEvent(),
  events.productListViewedEvent(),
  events.productViewedEvent(),
  events.productAddedEvent(),
  events.productRemovedEvent(),
  events.cartViewedEvent(),
  events.trackEvent('Cart Reviewed', { cart_id: 'cart-1', products: events.sampleProducts }),
  events.checkoutStartedEvent(),
  events.trackEvent('Checkout Step Viewed', { checkout_id: 'co-1', step: 2 }),
  events.orderCompletedEvent(),
  events.audienceIdentifyEvent('vip_customers', true),
  events.audienceTrackEvent('vip_customers', false),
  events.computedTraitIdentifyEvent('lifetime_value', 420),
  events.computedTraitTrackEvent('lifetime_value', 420)
]

/** Headers that describe the connection, not the request: each client manages its own (keep-alive or not). */
const CONNECTION_HEADERS = new Set(['connection', 'keep-alive'])

interface Wire {
  readonly method: string
  readonly path: string
  readonly headers: readonly (readonly [string, string])[]
  readonly body: string
}

function onWire(request: WireRequest): Wire {
  const headers: [string, string][] = []
  for (let index = 0; index < request.rawHeaders.length; index += 2) {
    const name = request.rawHeaders[index] ?? ''
    if (!CONNECTION_HEADERS.has(name.toLowerCase()))
      headers.push([name.toLowerCase(), request.rawHeaders[index + 1] ?? ''])
  }
  return { method: request.method, path: request.path, headers, body: request.body.toString('base64') }
}

async function sendThrough(
  client: ClientKind,
  integration: string,
  definitionKey: string,
  run: (destination: ReturnType<Awaited<ReturnType<typeof startSandbox>>['destination']>) => Promise<unknown>
): Promise<{ wire: Wire[]; outcome: string }> {
  const wire: Wire[] = []
  const sandbox = await startSandbox({ onRequest: (request) => wire.push(onWire(request)) })
  try {
    const definition = registry.get(integration)?.destinations[definitionKey]
    if (!definition) throw new Error(`no ${integration}/${definitionKey}`)
    const destination = sandbox.destination(definition, { client })
    let outcome: string
    try {
      outcome = `ok ${JSON.stringify(await run(destination))}`
    } catch (error) {
      outcome = `error ${(error as Error).message}`
    }
    return { wire, outcome }
  } finally {
    await sandbox.close()
  }
}

interface Case {
  readonly name: string
  readonly integration: string
  readonly definition: string
  readonly settings: JSONObject
  readonly subscription: Subscription
  readonly events: readonly SegmentEvent[]
  readonly batched: boolean
}

function cases(): Case[] {
  const list: Case[] = []
  for (const instance of sampleConfig.destinations ?? []) {
    const definitionKey = instance.definition ?? 'destination'
    const integration = instance.integration ?? ''
    const definition = registry.get(integration)?.destinations[definitionKey]
    if (!definition) throw new Error(`the sample configuration names ${integration}/${definitionKey}`)
    for (const subscription of presetSubscriptions(definition)) {
      const fql = parseFql(subscription.subscribe)
      const matching = CANDIDATES.filter((event) => validate(fql, event))
      const name = `${integration}/${definitionKey} ${subscription.partnerAction}`
      list.push({
        name,
        integration,
        definition: definitionKey,
        settings: (instance.settings ?? {}) as JSONObject,
        subscription,
        events: matching,
        batched: false
      })
      if (definition.actions[subscription.partnerAction]?.performBatch)
        list.push({
          name: `${name} (batch)`,
          integration,
          definition: definitionKey,
          settings: (instance.settings ?? {}) as JSONObject,
          subscription: { ...subscription, mapping: { ...subscription.mapping, enable_batching: true } },
          events: matching,
          batched: true
        })
    }
  }
  return list
}

describe('the runtime request client sends what actions-core sends', () => {
  const all = cases()

  it('covers every preset of every integration in the sample configuration', () => {
    const presets = new Set(
      all.map((entry) => `${entry.integration}/${entry.definition}/${entry.subscription.partnerAction}`)
    )
    const expected = new Set<string>()
    for (const instance of sampleConfig.destinations ?? []) {
      const key = instance.definition ?? 'destination'
      const definition = registry.get(instance.integration ?? '')?.destinations[key]
      for (const subscription of definition ? presetSubscriptions(definition) : [])
        expected.add(`${instance.integration}/${key}/${subscription.partnerAction}`)
    }
    expect(presets).toStrictEqual(expected)
    expect(presets.size).toBeGreaterThanOrEqual(24)
    // Every preset is exercised by at least one event.
    expect(all.filter((entry) => entry.events.length === 0).map((entry) => entry.name)).toStrictEqual([])
  })

  it.each(all.map((entry) => [entry.name, entry] as const))('%s', async (_name, entry) => {
    const settings = { ...entry.settings, subscriptions: [entry.subscription as unknown as JSONObject] }
    const run = (client: ClientKind) =>
      sendThrough(client, entry.integration, entry.definition, async (destination) => {
        const outputs: unknown[] = []
        try {
          if (entry.batched) outputs.push(await destination.onBatch([...entry.events], settings))
          else for (const event of entry.events) outputs.push(await destination.onEvent(event, settings))
        } finally {
          destination.responses.length = 0
        }
        return outputs
      })
    const viaRuntime = await run('runtime')
    const viaActionsCore = await run('actions-core')
    expect(viaRuntime.wire.length).toBeGreaterThan(0)
    expect(viaRuntime.wire).toStrictEqual(viaActionsCore.wire)
    // And the action sees the same answers: the same results, or the same error.
    expect(viaRuntime.outcome).toBe(viaActionsCore.outcome)
  })

  it('the Segment client of a source sends the same bytes through either client', async () => {
    const messages = [
      {
        type: 'identify',
        userId: 'user-1',
        messageId: 'm-1',
        timestamp: events.FIXED_TIMESTAMP,
        traits: { plan: 'pro' }
      },
      {
        type: 'track',
        userId: 'user-1',
        messageId: 'm-2',
        timestamp: events.FIXED_TIMESTAMP,
        event: 'Email Opened',
        properties: { subject: 'Hi' }
      }
    ] as const
    const send = async (client: ClientKind) => {
      const wire: Wire[] = []
      const sandbox = await startSandbox({ onRequest: (request) => wire.push(onWire(request)) })
      const transport = new InstanceTransport({
        instance: 'source:test',
        mode: 'sandbox',
        connections: 2,
        simulatorPorts: sandbox.server.ports,
        recorder: new DeliveryRecorder(),
        redactor: () => createRedactor([]),
        metrics: new RuntimeMetrics()
      })
      try {
        const request =
          client === 'runtime'
            ? runtimeRequestClient(transport, 'deliverToSegment')
            : // actions-core's own client, as Segment's runtime would build it; the agent only routes it to the sandbox.
              createRequestClient({
                agent: transport.agentFor(new URL('https://api.segment.io'), { action: undefined, eventIds: [] })
              } as Parameters<typeof createRequestClient>[0])
        const result = await createSegmentClient({
          writeKey: 'source-write-key',
          region: 'us',
          request,
          now: () => new Date(events.FIXED_TIMESTAMP)
        }).batch([...messages])
        return { wire, result }
      } finally {
        await transport.close()
        await sandbox.close()
      }
    }
    const viaRuntime = await send('runtime')
    const viaActionsCore = await send('actions-core')
    expect(viaRuntime.wire).toHaveLength(1)
    expect(viaRuntime.wire[0]?.path).toBe('/v1/batch')
    expect(viaRuntime.wire).toStrictEqual(viaActionsCore.wire)
    expect(viaRuntime.result).toStrictEqual(viaActionsCore.result)
  })
})
