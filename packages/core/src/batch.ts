import type { JSONLikeObject } from '@segment/actions-core'
import type { MultiStatusResponse } from '@segment/actions-core'
import { ErrorCodes } from '@segment/actions-core'
import { chunkByLimits, multiStatusFromOutcomes } from './http'
import type { RecordOutcome } from './http'
import { jsonByteLength } from './validation'

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
  /** Sends one chunk; returns per-record outcomes when the vendor reports them, `undefined` when all succeeded. */
  readonly send: (records: VendorRecord[]) => Promise<readonly RecordOutcome[] | undefined>
}

interface StatusError {
  status?: unknown
  message?: unknown
  code?: unknown
}

function statusOf(error: unknown): number {
  const status = (error as StatusError | null)?.status
  return typeof status === 'number' ? status : 500
}

function codeOf(error: unknown): keyof typeof ErrorCodes | undefined {
  const code = (error as StatusError | null)?.code
  return typeof code === 'string' && code in ErrorCodes ? (code as keyof typeof ErrorCodes) : undefined
}

function messageOf(error: unknown): string {
  const message = (error as StatusError | null)?.message
  return typeof message === 'string' ? message : String(error)
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
  const { payloads, build, limits, send } = options
  const outcomes: RecordOutcome[] = new Array(payloads.length)
  const ready: { index: number; record: VendorRecord; bytes: number }[] = []
  const recordBudget = limits.maxBytes - (limits.envelopeBytes ?? 0)

  payloads.forEach((payload, index) => {
    try {
      const record = build(payload, index)
      const bytes = jsonByteLength(record)
      if (bytes > recordBudget) {
        outcomes[index] = {
          ok: false,
          status: 413,
          message: `The record is ${bytes} bytes; one request holds at most ${limits.maxBytes} bytes`
        }
      } else {
        ready.push({ index, record, bytes })
      }
    } catch (error) {
      outcomes[index] = { ok: false, status: statusOf(error), message: messageOf(error), code: codeOf(error) }
    }
  })

  for (const chunk of chunkByLimits(ready, limits, (item) => item.bytes)) {
    const records = chunk.map((item) => item.record)
    try {
      const reported = await send(records)
      chunk.forEach((item, position) => {
        outcomes[item.index] = reported?.[position] ?? { ok: true, sent: item.record as JSONLikeObject }
      })
    } catch (error) {
      for (const item of chunk)
        outcomes[item.index] = {
          ok: false,
          status: statusOf(error),
          message: messageOf(error),
          sent: item.record as JSONLikeObject
        }
    }
  }

  return outcomes
}
