import type { RequestClient } from '@segment/actions-core'
import { runSource, type SourceDefinition } from '@open-actions/core'
import { type BatchResult, createSegmentClient } from './tracking-client'

export interface SourceDelivery extends BatchResult {
  /** The Segment messages the payload became (empty when the source had nothing to send for it). */
  readonly messages: ReturnType<typeof runSource>['messages']
}

/**
 * Runs an inbound integration end to end: validates settings and payload (a `PayloadValidationError` naming the
 * field, and nothing sent, when either is bad), maps the payload to Segment messages and sends them, in order, to
 * the source's write key through `/v1/batch`.
 */
export async function deliverSourcePayload<Settings, Payload>(
  source: SourceDefinition<Settings, Payload>,
  payload: unknown,
  settings: unknown,
  options: { readonly request?: RequestClient; readonly now?: () => Date } = {}
): Promise<SourceDelivery> {
  const run = runSource(source, payload, settings)
  if (run.messages.length === 0) return { messages: [], outcomes: [], requests: 0 }
  const { writeKey, region } = source.delivery(run.settings)
  const client = createSegmentClient({
    writeKey,
    region,
    ...(options.request ? { request: options.request } : {}),
    ...(options.now ? { now: options.now } : {})
  })
  const result = await client.batch(run.messages)
  return { messages: run.messages, ...result }
}
