import type { ActionDefinition, InputField, JSONLikeObject, RequestClient } from '@segment/actions-core'
import { deliverBatch, errorDetails, type RecordOutcome } from '@open-actions/core'
import {
  BULK_ENVELOPE_BYTES,
  type BulkElement,
  type IdentifyBody,
  MOENGAGE_LIMITS,
  type MoEngageSettings,
  sendBulk,
  sendToSegmentIntegration,
  type TrackBody
} from './moengage-api'

/**
 * How one event travels in a batch: users with a user_id go through the public bulk API as one element;
 * anonymous users cannot (bulk elements need a customer_id), so they go through the Segment integration
 * endpoint one by one, which accepts an anonymous_id.
 */
export type DeliveryPlan =
  | { readonly element: BulkElement; readonly body?: undefined }
  | { readonly body: IdentifyBody | TrackBody; readonly element?: undefined }

async function sendSingle(
  request: RequestClient,
  settings: MoEngageSettings,
  body: IdentifyBody | TrackBody
): Promise<RecordOutcome> {
  try {
    await sendToSegmentIntegration(request, settings, body)
    return { ok: true, sent: body as unknown as JSONLikeObject }
  } catch (error) {
    const { status, message } = errorDetails(error)
    return {
      ok: false,
      status: status ?? 500,
      message,
      sent: body as unknown as JSONLikeObject
    }
  }
}

export function moengageAction<Payload extends JSONLikeObject & { batch_size?: number }>(definition: {
  readonly title: string
  readonly description: string
  readonly defaultSubscription: string
  readonly fields: Record<string, InputField>
  /** The body for the Segment integration endpoint (validated: data rules, identity). */
  readonly toBody: (payload: Payload) => IdentifyBody | TrackBody
  /** The bulk element for a user with a user_id (validated). */
  readonly toElement: (body: IdentifyBody | TrackBody) => BulkElement
}): ActionDefinition<MoEngageSettings, Payload> {
  const plan = (payload: Payload): DeliveryPlan => {
    const body = definition.toBody(payload)
    return body.user_id ? { element: definition.toElement(body) } : { body }
  }
  return {
    title: definition.title,
    description: definition.description,
    defaultSubscription: definition.defaultSubscription,
    fields: definition.fields,
    perform: async (request, { settings, payload }) => {
      const body = definition.toBody(payload)
      await sendToSegmentIntegration(request, settings, body)
      return body as unknown as JSONLikeObject
    },
    performBatch: (request, { settings, payload }) =>
      deliverBatch({
        payloads: payload,
        build: plan,
        limits: {
          maxItems: payload[0]?.batch_size ?? MOENGAGE_LIMITS.maxBulkElements,
          maxBytes: MOENGAGE_LIMITS.maxBulkBytes,
          envelopeBytes: BULK_ENVELOPE_BYTES
        },
        send: async (plans) => {
          const elements = plans.flatMap((item) => (item.element ? [item.element] : []))
          if (elements.length > 0) await sendBulk(request, settings, elements)
          return Promise.all(
            plans.map((item) =>
              item.element
                ? { ok: true as const, sent: item.element as unknown as JSONLikeObject }
                : sendSingle(request, settings, item.body)
            )
          )
        }
      })
  }
}
