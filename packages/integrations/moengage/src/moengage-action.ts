import type { ActionDefinition, InputField, JSONLikeObject, RequestClient } from '@segment/actions-core'
import { deliverBatch, errorDetails, parsePayload, type RecordOutcome } from '@open-actions/core'
import {
  BULK_ENVELOPE_BYTES,
  type BulkElement,
  bulkElementSchema,
  type IdentifyBody,
  MOENGAGE_LIMITS,
  type MoEngageSettings,
  sendBulk,
  sendToSegmentIntegration,
  type TrackBody
} from './moengage-api'
import { bulkElementOf } from './moengage-mapping'

/**
 * How one event travels in a batch: users with a user_id go through the public bulk API as one element;
 * anonymous users cannot (bulk elements need a customer_id), so they go through the Segment integration
 * endpoint one by one, which accepts an anonymous_id.
 */
export type DeliveryPlan =
  | { readonly element: BulkElement; readonly body?: undefined }
  | { readonly body: IdentifyBody | TrackBody; readonly element?: undefined }

/**
 * What a bulk element's result says: MoEngage answers every accepted bulk call with 200 before processing it, and shows
 * the processing only on its dashboard, so "accepted" is all that is known.
 */
export const BULK_ACCEPTED = {
  accepted: true,
  note: 'MoEngage’s bulk API accepts before processing; its dashboard shows the outcome'
} as const

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

/**
 * Both MoEngage actions: `toBody` is the one mapping (a body for the Segment integration endpoint, validated); a single
 * event posts it, a batch sends it as a bulk element (`bulkElementOf`).
 */
export function moengageAction<Payload extends JSONLikeObject & { batch_size?: number }>(definition: {
  readonly title: string
  readonly description: string
  readonly defaultSubscription: string
  readonly fields: Record<string, InputField>
  readonly toBody: (payload: Payload) => IdentifyBody | TrackBody
}): ActionDefinition<MoEngageSettings, Payload> {
  const plan = (payload: Payload): DeliveryPlan => {
    const body = definition.toBody(payload)
    return body.user_id
      ? { element: parsePayload(bulkElementSchema, bulkElementOf(body), 'MoEngage bulk element') }
      : { body }
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
                ? {
                    ok: true as const,
                    sent: item.element as unknown as JSONLikeObject,
                    body: BULK_ACCEPTED as unknown as JSONLikeObject
                  }
                : sendSingle(request, settings, item.body)
            )
          )
        }
      })
  }
}
