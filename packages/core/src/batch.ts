import type { JSONLikeObject } from '@segment/actions-core'
import type { MultiStatusResponse } from '@segment/actions-core'
import { ErrorCodes } from '@segment/actions-core'
import { errorDetails } from './error-details'
import { chunkByLimits, multiStatusFromOutcomes } from './http'
import type { RecordOutcome } from './http'

export interface BatchLimits {
  readonly maxItems: number
  readonly maxBytes: number
  /** Bytes of the request around the records (`{"users":[]}` = 12). */
  readonly envelopeBytes?: number
}

export interface DeliverBatchOptions<Payload, VendorRecord> {
  readonly payloads: readonly Payload[]
  /** Builds and validates one vendor record; a thrown error fails only that item. */
  readonly build: (payload: Payload, index: number) => VendorRecord
  readonly limits: BatchLimits
  /**
   * Sends one chunk; returns per-record outcomes when the vendor reports them, `undefined` when all succeeded. `json`
   * holds each record's JSON text, in the chunk's order: a body built from them (`{"users":[` + texts joined by `,`
   * + `]}`) has the bytes `JSON.stringify` would give, without serializing every record a second time.
   */
  readonly send: (records: VendorRecord[], json: readonly string[]) => Promise<readonly RecordOutcome[] | undefined>
  /**
   * A record's JSON text, for a `build` that has serialized it already (for a per-record limit of the vendor's):
   * `JSON.stringify` when absent. Called once per record, right after `build` returned it. Its UTF-8 length sizes the
   * record for the vendor's limits, and `send` receives it.
   */
  readonly jsonOf?: (record: VendorRecord) => string
}

/** A record as JSON, as `jsonByteLength` measures it. */
const jsonText = (record: unknown): string => JSON.stringify(record) ?? ''

/**
 * An item's failure. A build error keeps its code (PAYLOAD_VALIDATION_FAILED); a failed request fails each of its
 * items with the request's status, the error type then following from the status.
 */
function failureOf(error: unknown, sent?: JSONLikeObject): RecordOutcome {
  const details = errorDetails(error)
  const code =
    sent === undefined && details.code !== undefined && details.code in ErrorCodes
      ? (details.code as keyof typeof ErrorCodes)
      : undefined
  return {
    ok: false,
    status: details.status ?? 500,
    message: details.message,
    ...(code ? { code } : {}),
    ...(sent === undefined ? {} : { sent })
  }
}

/**
 * The shape every `performBatch` here shares: build and validate each item (a bad item fails alone, with
 * its reason), split the rest into requests within the vendor's count and byte limits, send each, and
 * report one result per item in input order. A failed request fails only its own items, with its status,
 * so a runtime retries exactly those.
 */
export async function deliverBatch<Payload, VendorRecord>(
  options: DeliverBatchOptions<Payload, VendorRecord>
): Promise<MultiStatusResponse> {
  return multiStatusFromOutcomes(await deliverInChunks(options))
}

/** `deliverBatch` for clients outside actions-core: the per-item outcomes, in input order. */
export async function deliverInChunks<Payload, VendorRecord>(
  options: DeliverBatchOptions<Payload, VendorRecord>
): Promise<RecordOutcome[]> {
  const { payloads, build, limits, send, jsonOf = jsonText } = options
  const outcomes: RecordOutcome[] = new Array(payloads.length)
  const ready: { index: number; record: VendorRecord; json: string; bytes: number }[] = []
  const recordBudget = limits.maxBytes - (limits.envelopeBytes ?? 0)

  payloads.forEach((payload, index) => {
    try {
      const record = build(payload, index)
      const json = jsonOf(record)
      const bytes = Buffer.byteLength(json, 'utf8')
      if (bytes > recordBudget) {
        outcomes[index] = {
          ok: false,
          status: 413,
          message: `The record is ${bytes} bytes; one request holds at most ${limits.maxBytes} bytes`
        }
      } else {
        ready.push({ index, record, json, bytes })
      }
    } catch (error) {
      outcomes[index] = failureOf(error)
    }
  })

  for (const chunk of chunkByLimits(ready, limits, (item) => item.bytes)) {
    const records = chunk.map((item) => item.record)
    try {
      const reported = await send(
        records,
        chunk.map((item) => item.json)
      )
      chunk.forEach((item, position) => {
        outcomes[item.index] = reported?.[position] ?? { ok: true, sent: item.record as JSONLikeObject }
      })
    } catch (error) {
      for (const item of chunk) outcomes[item.index] = failureOf(error, item.record as JSONLikeObject)
    }
  }

  return outcomes
}
