import { describe, expect, it } from '@jest/globals'
import type { ActionDefinition, DestinationDefinition, SegmentEvent } from '@segment/actions-core'
import { defaultValues, Destination } from '@segment/actions-core'
import { ecommerceFields, engageFields, eventFields, identityFields, orderFields } from './fields'
import { presetSubscriptions } from './presets'
import type { InferPayload } from './types'

const orderActionFields = { ...identityFields, ...eventFields, ...orderFields, products: ecommerceFields.products }
type OrderPayload = InferPayload<typeof orderActionFields>

const received: OrderPayload[] = []
const orderAction: ActionDefinition<Record<string, never>, OrderPayload> = {
  title: 'Order',
  description: 'Captures the mapped payload.',
  defaultSubscription: 'type = "track" and event = "Order Completed"',
  fields: orderActionFields,
  perform: (_request, { payload }) => {
    received.push(payload)
    return { captured: true }
  }
}

// The name has spaces and parentheses on purpose: with fast-uri >= 3.1.6, actions-core's validator cache key
// "<name>:settings" is parsed as a URI and onEvent throws "URI scheme is malformed" (see facts/actions-core.md).
const definition: DestinationDefinition<Record<string, never>> = {
  name: 'Field Library Test (Actions)',
  mode: 'cloud',
  authentication: { scheme: 'custom', fields: {} },
  presets: [
    {
      name: 'Order Completed',
      subscribe: orderAction.defaultSubscription ?? '',
      partnerAction: 'order',
      mapping: defaultValues(orderAction.fields),
      type: 'automatic'
    }
  ],
  actions: { order: orderAction }
}

const event = {
  type: 'track',
  event: 'Order Completed',
  userId: 'u-1',
  anonymousId: 'a-1',
  messageId: 'm-1',
  timestamp: '2024-05-01T12:00:00.000Z',
  context: { traits: { email: 'jane@example.com' } },
  properties: {
    order_id: 'o-1',
    checkout_id: 'c-1',
    revenue: 25,
    tax: 2,
    currency: 'USD',
    products: [
      { product_id: 'p-1', name: 'One', price: 18.99, quantity: 1, category: 'Games' },
      { product_id: 'p-2', price: 3, quantity: 2 }
    ]
  }
} as SegmentEvent

describe('the shared field library through Destination.onEvent', () => {
  it('maps identity, event, order and products fields with their @path defaults, for a name with spaces', async () => {
    received.length = 0
    const destination = new Destination(definition)
    const results = await destination.onEvent(event, { subscriptions: presetSubscriptions(definition) as never })
    expect(results).toStrictEqual([
      { output: 'Mappings resolved' },
      { output: 'Payload validated' },
      { output: 'Action Executed', data: { captured: true } }
    ])
    expect(received).toStrictEqual([
      {
        user_id: 'u-1',
        anonymous_id: 'a-1',
        email: 'jane@example.com',
        event_name: 'Order Completed',
        timestamp: '2024-05-01T12:00:00.000Z',
        message_id: 'm-1',
        properties: event.properties,
        event_type: 'track',
        order_id: 'o-1',
        checkout_id: 'c-1',
        revenue: 25,
        tax: 2,
        currency: 'USD',
        products: [
          { product_id: 'p-1', name: 'One', price: 18.99, quantity: 1, category: 'Games' },
          { product_id: 'p-2', price: 3, quantity: 2 }
        ]
      }
    ])
  })

  it('does not run an action whose subscription does not match', async () => {
    received.length = 0
    const results = await new Destination(definition).onEvent(
      { ...event, event: 'Order Refunded' },
      { subscriptions: presetSubscriptions(definition) as never }
    )
    expect(results).toStrictEqual([{ output: 'not subscribed' }])
    expect(received).toStrictEqual([])
  })

  it('declares Engage fields reading context.personas', () => {
    expect(engageFields.computation_key.default).toStrictEqual({ '@path': '$.context.personas.computation_key' })
    expect(engageFields.computation_class.choices).toStrictEqual(['audience', 'computed_trait', 'journey_step'])
  })
})

describe('presetSubscriptions', () => {
  it('turns automatic presets into subscriptions and leaves lifecycle presets out', () => {
    expect(
      presetSubscriptions({
        presets: [
          { name: 'A', subscribe: 'type = "identify"', partnerAction: 'a', mapping: { x: 1 }, type: 'automatic' },
          {
            name: 'B',
            partnerAction: 'b',
            mapping: {},
            type: 'specificEvent',
            eventSlug: 'journeys_step_entered_track'
          }
        ]
      })
    ).toStrictEqual([{ name: 'A', partnerAction: 'a', subscribe: 'type = "identify"', mapping: { x: 1 } }])
  })
})
