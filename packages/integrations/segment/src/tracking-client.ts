import type { JSONLikeObject, RequestClient } from '@segment/actions-core'
import { createRequestClient } from '@segment/actions-core'
import { basicAuthorization, deliverInChunks, type RecordOutcome, sendVendorRequest } from '@open-actions/core'
import { z } from 'zod'
import {
  prepareSerializedMessage,
  prepareMessage,
  SEGMENT_LIMITS,
  type SegmentMessage,
  type SegmentMessageInput
} from './segment-message'
import { trackingRegions } from './segment-regions'

export interface SegmentClientOptions {
  /** The write key of the Segment source the messages go to. */
  readonly writeKey: string
  /** `us` (default) or `eu`. */
  readonly region?: string
  /** An actions-core request client; inside an action pass the `request` you were given. */
  readonly request?: RequestClient
  /** The clock used for missing timestamps (tests pin it). */
  readonly now?: () => Date
}

type WithoutType<Type extends SegmentMessageInput['type']> = Omit<Extract<SegmentMessageInput, { type: Type }>, 'type'>

export interface BatchResult {
  /** One outcome per input message, in order. */
  readonly outcomes: RecordOutcome[]
  /** How many HTTP requests the batch took. */
  readonly requests: number
}

export interface SegmentClient {
  identify(message: WithoutType<'identify'>): Promise<SegmentMessage>
  track(message: WithoutType<'track'>): Promise<SegmentMessage>
  page(message: WithoutType<'page'>): Promise<SegmentMessage>
  screen(message: WithoutType<'screen'>): Promise<SegmentMessage>
  group(message: WithoutType<'group'>): Promise<SegmentMessage>
  alias(message: WithoutType<'alias'>): Promise<SegmentMessage>
  /** Sends one message to its own endpoint (`/v1/<type>`). */
  send(message: SegmentMessageInput): Promise<SegmentMessage>
  /** Sends messages through `/v1/batch`, split into requests of at most 500 KB. */
  batch(messages: readonly unknown[]): Promise<BatchResult>
}

/** Segment answers errors as `{ success: false, message }` or plain text. */
const segmentErrorContext = {
  vendor: 'Segment',
  readMessage: (body: unknown) => {
    const parsed = z
      .object({ message: z.string() })
      .or(z.object({ error: z.string() }))
      .safeParse(body)
    if (!parsed.success) return undefined
    return 'message' in parsed.data ? parsed.data.message : parsed.data.error
  }
}

const BATCH_ENVELOPE_BYTES = '{"batch":[]}'.length

/**
 * The one way in this repo to send to Segment's Tracking API (segment.com/docs/connections/sources/catalog/libraries/server/http-api):
 * Basic auth with the write key and an empty password, regional hosts, 32 KB per message and 500 KB per batch
 * enforced before sending, deterministic `messageId`s, and errors mapped by core (429/5xx retryable).
 */
export function createSegmentClient(options: SegmentClientOptions): SegmentClient {
  const baseUrl = trackingRegions.resolve(options.region)
  const request = options.request ?? createRequestClient({})
  const headers = { Authorization: basicAuthorization(options.writeKey), 'Content-Type': 'application/json' }

  const post = (path: string, json: JSONLikeObject) =>
    sendVendorRequest(request, `${baseUrl}/${path}`, { method: 'POST', headers, json }, segmentErrorContext)
  // A string body: the Content-Type (application/json) is among the headers above.
  const postText = (path: string, body: string) =>
    sendVendorRequest(request, `${baseUrl}/${path}`, { method: 'POST', headers, body }, segmentErrorContext)

  const send = async (input: SegmentMessageInput): Promise<SegmentMessage> => {
    const message = prepareMessage(input, options.now)
    const { type, ...body } = message
    await post(type, body as JSONLikeObject)
    return message
  }

  return {
    identify: (message) => send({ ...message, type: 'identify' }),
    track: (message) => send({ ...message, type: 'track' }),
    page: (message) => send({ ...message, type: 'page' }),
    screen: (message) => send({ ...message, type: 'screen' }),
    group: (message) => send({ ...message, type: 'group' }),
    alias: (message) => send({ ...message, type: 'alias' }),
    send,
    async batch(messages) {
      let requests = 0
      // Each message is serialized once: for its own 32 KB limit, for the 500 KB chunking (jsonOf is called right
      // after build, for the record build returned) and for the body, put together from those texts.
      let serialized = ''
      const outcomes = await deliverInChunks({
        payloads: messages,
        build: (input) => {
          const { message, json } = prepareSerializedMessage(input, options.now)
          serialized = json
          return message
        },
        jsonOf: () => serialized,
        limits: {
          maxItems: Number.MAX_SAFE_INTEGER,
          maxBytes: SEGMENT_LIMITS.maxBatchBytes,
          envelopeBytes: BATCH_ENVELOPE_BYTES
        },
        send: async (_batch, json) => {
          requests += 1
          // The bytes JSON.stringify({ batch }) gives.
          await postText('batch', `{"batch":[${json.join(',')}]}`)
          return undefined
        }
      })
      return { outcomes, requests }
    }
  }
}
