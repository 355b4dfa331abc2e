import { describe, expect, it } from '@jest/globals'
import { PayloadValidationError } from '@segment/actions-core'
import { deliverBatch } from './batch'
import { VendorRetryableError } from './errors'

const valueOf = (multiStatus: Awaited<ReturnType<typeof deliverBatch>>) =>
  multiStatus.getAllResponses().map((response) => response.value())

describe('deliverBatch', () => {
  it('fails a bad item alone and sends the rest in chunks within the limits, results in input order', async () => {
    const sent: number[][] = []
    const result = await deliverBatch({
      payloads: [1, -1, 2, 3],
      build: (value) => {
        if (value < 0) throw new PayloadValidationError('value must be positive')
        return { value }
      },
      limits: { maxItems: 2, maxBytes: 1000 },
      send: async (records) => {
        sent.push(records.map((record) => record.value))
        return undefined
      }
    })
    expect(sent).toStrictEqual([[1, 2], [3]])
    expect(valueOf(result)).toStrictEqual([
      { status: 200, sent: { value: 1 }, body: 'accepted' },
      { status: 400, errortype: 'PAYLOAD_VALIDATION_FAILED', errormessage: 'value must be positive' },
      { status: 200, sent: { value: 2 }, body: 'accepted' },
      { status: 200, sent: { value: 3 }, body: 'accepted' }
    ])
  })

  it('sizes records by jsonOf when given: its text alone decides the chunks, the oversize refusals and what send gets', async () => {
    const sent: { records: string[]; json: readonly string[] }[] = []
    const calls: string[] = []
    // Tiny as JSON, but given a 40-byte text each ('big' 200): two fit in 100 bytes, 'big' in none.
    const result = await deliverBatch({
      payloads: ['a', 'b', 'big', 'c'],
      build: (value) => {
        calls.push(`build ${value}`)
        return { value }
      },
      jsonOf: (record) => {
        calls.push(`jsonOf ${record.value}`)
        return record.value.padEnd(record.value === 'big' ? 200 : 40, '.')
      },
      limits: { maxItems: 10, maxBytes: 100 },
      send: async (records, json) => {
        sent.push({ records: records.map((record) => record.value), json })
        return undefined
      }
    })
    // Each record is serialized right after it is built (a build may hand its own text over that way).
    expect(calls).toStrictEqual(['a', 'b', 'big', 'c'].flatMap((value) => [`build ${value}`, `jsonOf ${value}`]))
    expect(sent).toStrictEqual([
      { records: ['a', 'b'], json: ['a'.padEnd(40, '.'), 'b'.padEnd(40, '.')] },
      { records: ['c'], json: ['c'.padEnd(40, '.')] }
    ])
    expect(valueOf(result)[2]).toStrictEqual({
      status: 413,
      errortype: 'PAYLOAD_TOO_LARGE',
      errormessage: 'The record is 200 bytes; one request holds at most 100 bytes'
    })
  })

  it('hands send each record as JSON.stringify gives it, sized in UTF-8 bytes, when jsonOf is absent', async () => {
    const sent: (readonly string[])[] = []
    // "é" is 2 bytes in UTF-8: {"v":"éé"} is 12 bytes, so two records do not fit in 20 and each goes alone.
    await deliverBatch({
      payloads: ['éé', 'éé'],
      build: (value) => ({ v: value }),
      limits: { maxItems: 10, maxBytes: 20 },
      send: async (_records, json) => {
        sent.push(json)
        return undefined
      }
    })
    expect(sent).toStrictEqual([['{"v":"éé"}'], ['{"v":"éé"}']])
  })

  it('fails only the items of a request that failed, with its status', async () => {
    let call = 0
    const result = await deliverBatch({
      payloads: ['a', 'b', 'c'],
      build: (value) => ({ value }),
      limits: { maxItems: 2, maxBytes: 1000 },
      send: async () => {
        call += 1
        if (call === 2) throw new VendorRetryableError('Vendor answered HTTP 503', 503)
        return undefined
      }
    })
    expect(valueOf(result).map((entry) => entry.status)).toStrictEqual([200, 200, 503])
    expect(valueOf(result)[2]).toStrictEqual({
      status: 503,
      errortype: 'SERVICE_UNAVAILABLE',
      errormessage: 'Vendor answered HTTP 503',
      sent: { value: 'c' }
    })
  })

  it('uses the per-record outcomes a vendor reports, and refuses a record larger than a request', async () => {
    const result = await deliverBatch({
      payloads: ['ok', 'rejected', 'x'.repeat(100)],
      build: (value) => ({ value }),
      limits: { maxItems: 10, maxBytes: 60 },
      send: async (records) =>
        records.map((record) =>
          record.value === 'rejected'
            ? { ok: false, status: 400, message: 'no', sent: record }
            : { ok: true, sent: record }
        )
    })
    expect(valueOf(result)).toStrictEqual([
      { status: 200, sent: { value: 'ok' }, body: 'accepted' },
      { status: 400, errortype: 'BAD_REQUEST', errormessage: 'no', sent: { value: 'rejected' } },
      {
        status: 413,
        errortype: 'PAYLOAD_TOO_LARGE',
        errormessage: 'The record is 112 bytes; one request holds at most 60 bytes'
      }
    ])
  })
})
