import { afterAll, describe, expect, it } from '@jest/globals'
// The factories alone: the package index loads nock, which patches http.ClientRequest and would bypass the runtime's agents.
import * as events from '@open-actions/testing/events'
import type { Fault } from './config'
import { resolveConfig } from './config'
import { sampleConfig } from './sample-config'
import { registry, startRuntime } from './start'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/*
 * Fault injection through the runtime's HTTP API against the vendor simulators served on loopback: every fault
 * happens on a real socket. Each scenario sends events, waits for every delivery to settle, and counts: each
 * (event, destination) pair must end delivered or dead-lettered (lost = 0), retries stay within maxAttempts,
 * and nothing a vendor accepted is sent to it again.
 */
interface Row {
  fault: string
  sent: number
  delivered: number
  deadLettered: number
  lost: number
  maxAttempts: number
  duplicates: number
}

const rows: Row[] = []
const MAX_ATTEMPTS = 4

afterAll(() => {
  const lines = [
    '| fault | sent | delivered | dead-lettered | lost | most attempts | duplicates |',
    '|---|---|---|---|---|---|---|'
  ]
  for (const row of rows)
    lines.push(
      `| ${row.fault} | ${row.sent} | ${row.delivered} | ${row.deadLettered} | ${row.lost} | ${row.maxAttempts} | ${row.duplicates} |`
    )
  console.log(`Fault injection through the runtime (loopback vendor simulators):\n${lines.join('\n')}`)
})

async function scenario(
  name: string,
  faults: Fault[],
  count: number,
  options: { maxConcurrent?: number; peakFor?: string } = {}
): Promise<Row & { peak: number }> {
  const resolved = resolveConfig(
    {
      ...sampleConfig,
      // Sandbox: the vendor simulators answer on a real loopback socket, so every fault below happens on it.
      sandbox: { faults },
      stateDir: join(mkdtempSync(join(tmpdir(), 'open-actions-faults-')), 'state'),
      delivery: {
        maxAttempts: MAX_ATTEMPTS,
        baseDelayMs: 10,
        maxDelayMs: 200,
        ...(options.maxConcurrent === undefined ? {} : { maxConcurrent: options.maxConcurrent })
      },
      batching: { maxEvents: 50, maxBytes: 1024 * 1024, maxWaitMs: 20 }
    },
    registry
  )
  const started = await startRuntime({ resolved, port: 0, logWrite: () => undefined })
  const simulators = started.runtime.sandbox
  try {
    const batch = Array.from({ length: count }, (_, index) =>
      index % 2 === 0
        ? events.identifyEvent({ messageId: `${name}-${index}`, userId: `u-${index}` })
        : events.trackEvent('Fault Test', { n: index }, { messageId: `${name}-${index}`, userId: `u-${index}` })
    )
    const response = await fetch(`${started.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(batch)
    })
    expect(response.status).toBe(202)
    await started.runtime.drain()
    const results = await Promise.all(batch.map((event) => started.runtime.result(event.messageId ?? '')))
    const targets = results.flatMap((result) => result?.targets ?? [])
    const delivered = targets.filter((target) => target.status === 'delivered').length
    const deadLettered = targets.filter((target) => target.status === 'dead_lettered').length
    const seen = new Map<string, number>()
    for (const accepted of simulators.accepted)
      seen.set(
        `${accepted.host}${accepted.path}${accepted.body}`,
        (seen.get(`${accepted.host}${accepted.path}${accepted.body}`) ?? 0) + 1
      )
    const row: Row = {
      fault: name,
      sent: targets.length,
      delivered,
      deadLettered,
      lost: targets.length - delivered - deadLettered,
      maxAttempts: Math.max(0, ...targets.map((target) => target.attempts)),
      duplicates: [...seen.values()].filter((times) => times > 1).length
    }
    rows.push(row)
    return { ...row, peak: simulators.concurrency.get(options.peakFor ?? '')?.peak ?? 0 }
  } finally {
    await started.stop()
  }
}

describe('fault injection through the runtime against loopback vendor simulators', () => {
  it('no faults: everything is delivered once', async () => {
    const row = await scenario('none', [], 20)
    // 20 events × 5 destinations (the Engage-only Insider Audiences matches none of them).
    expect(row).toMatchObject({ sent: 100, delivered: 100, deadLettered: 0, lost: 0, duplicates: 0 })
  })

  it('a burst of 5xx is retried until delivered', async () => {
    const row = await scenario(
      '5xx burst (Insider 503 ×3, OneSignal 502 ×5)',
      [
        { host: 'unification.useinsider.com', status: 503, times: 3 },
        { host: 'api.onesignal.com', status: 502, times: 5 }
      ],
      20
    )
    expect(row).toMatchObject({ lost: 0, deadLettered: 0, duplicates: 0 })
    expect(row.maxAttempts).toBeLessThanOrEqual(MAX_ATTEMPTS)
  })

  it('429 with Retry-After is honoured and retried', async () => {
    const row = await scenario(
      '429 + Retry-After (MoEngage ×2)',
      [{ host: 'api-01.moengage.com', status: 429, retryAfterSeconds: 0.05, times: 2 }],
      20
    )
    expect(row).toMatchObject({ lost: 0, deadLettered: 0, duplicates: 0 })
  })

  it('connection resets are retried', async () => {
    const row = await scenario(
      'connection reset (Segment ×2, Tray ×3)',
      [
        { host: 'api.segment.io', reset: true, times: 2 },
        { host: '*.trayapp.io', reset: true, times: 3 }
      ],
      20
    )
    expect(row).toMatchObject({ lost: 0, deadLettered: 0, duplicates: 0 })
  })

  it('slow answers within the timeout are delivered', async () => {
    const row = await scenario('slow answers (OneSignal +300 ms)', [{ host: 'api.onesignal.com', delayMs: 300 }], 10)
    expect(row).toMatchObject({ lost: 0, deadLettered: 0, delivered: row.sent })
  })

  it('overload queues in the runtime instead of timing out: a slow vendor never sees more than maxConcurrent', async () => {
    // OneSignal answers 200 ms late; 40 events reach its instance, which may send 4 at a time.
    const row = await scenario(
      'overload (OneSignal +200 ms, 4 at a time)',
      [{ host: 'api.onesignal.com', delayMs: 200 }],
      40,
      {
        maxConcurrent: 4,
        peakFor: 'api.onesignal.com'
      }
    )
    expect(row).toMatchObject({ lost: 0, deadLettered: 0, delivered: row.sent, maxAttempts: 1, peak: 4 })
  })

  it('a 200 with per-record failures fails exactly those records, which are dead-lettered with the reason', async () => {
    const failure = {
      data: {
        successful: { count: 9 },
        fail: { count: 1, errors: { 'users.0.events.0.event_params.*.required': ['currency is required'] } }
      }
    }
    const row = await scenario(
      '200 with per-record failures (Insider)',
      [{ host: 'unification.useinsider.com', status: 200, body: failure, times: 1 }],
      20
    )
    expect(row).toMatchObject({ lost: 0, deadLettered: 1, duplicates: 0 })
  })

  it('a vendor that stays down ends in dead letters after bounded retries', async () => {
    const row = await scenario('permanent 500 (MoEngage)', [{ host: 'api-01.moengage.com', status: 500 }], 10)
    expect(row).toMatchObject({ lost: 0, deadLettered: 10, maxAttempts: MAX_ATTEMPTS })
  })

  it('a request that times out is retried', async () => {
    // actions-core's own request timeout is 10 s; one answer 11 s late.
    const row = await scenario(
      'timeout (Segment, 11 s once)',
      [{ host: 'api.segment.io', delayMs: 11_000, times: 1 }],
      2
    )
    expect(row).toMatchObject({ lost: 0, deadLettered: 0 })
  }, 60_000)
})
