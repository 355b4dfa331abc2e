import { describe, expect, it } from '@jest/globals'
import type { ActionDefinition, JSONObject } from '@segment/actions-core'
import * as events from '@open-actions/testing/events'
import { resolveConfig } from './config'
import { createRegistry, type IntegrationEntry, type RuntimeDestinationDefinition } from './registry'
import { temporaryStateDir } from './runtime-harness.test-helpers'
import { OpenActionsRuntime } from './runtime'

/*
 * What the runtime hands actions-core besides the event and settings (OnEventOptions), seen from inside an action:
 * a logger into the runtime's log, a statsContext into its metrics, a stateContext per delivery, and a signal only
 * when the runtime bounds the attempt itself (a signal turns actions-core's 10 s per-request timeout off).
 */

interface Seen {
  logger: boolean
  statsContext: boolean
  stateContext: boolean
  signal: boolean
}

/** The statsContext tags each call saw, in order. */
const tagsSeen: string[][] = []

function probeIntegration(seen: Seen[]): IntegrationEntry {
  const record: ActionDefinition<JSONObject, JSONObject> = {
    title: 'Record',
    description: 'Records what the runtime handed it.',
    fields: {},
    perform: (_request, data) => {
      tagsSeen.push([...(data.statsContext?.tags ?? [])])
      seen.push({
        logger: data.logger !== undefined,
        statsContext: data.statsContext !== undefined,
        stateContext: data.stateContext !== undefined,
        signal: data.signal !== undefined
      })
      data.logger?.info('probe performed', 'with a second part')
      data.statsContext?.statsClient.incr('probe.performed', 2, data.statsContext.tags)
      data.statsContext?.statsClient.incr('a stat name with spaces', 1)
      return { ok: true }
    }
  }
  const definition: RuntimeDestinationDefinition = {
    name: 'Probe',
    mode: 'cloud',
    authentication: { scheme: 'custom', fields: {} },
    actions: { record }
  }
  return {
    slug: 'probe',
    packageName: '@open-actions/probe',
    version: '0.0.0',
    destinations: { destination: definition },
    sources: {}
  }
}

async function runProbe(delivery: Record<string, unknown>, count = 1) {
  const seen: Seen[] = []
  const logs: string[] = []
  const registry = createRegistry([probeIntegration(seen)])
  const resolved = resolveConfig(
    {
      stateDir: temporaryStateDir(),
      delivery,
      destinations: [
        {
          id: 'probe-1',
          integration: 'probe',
          subscriptions: [{ partnerAction: 'record', subscribe: 'type = "track"', mapping: {} }]
        }
      ]
    },
    registry
  )
  const runtime = await OpenActionsRuntime.open({
    resolved,
    registry,
    logLevel: 'info',
    logWrite: (line) => logs.push(line)
  })
  try {
    await runtime.ingestEvents(
      Array.from({ length: count }, (_, index) => events.trackEvent('Probed', {}, { messageId: `probe-${index + 1}` }))
    )
    await runtime.drain()
    return {
      seen,
      logs: logs.map((line) => JSON.parse(line) as Record<string, unknown>),
      metrics: await runtime.renderMetrics()
    }
  } finally {
    await runtime.close()
  }
}

describe('OnEventOptions', () => {
  it('passes a logger, a statsContext and a stateContext, and no signal unless the attempt is bounded', async () => {
    const { seen, logs, metrics } = await runProbe({})
    expect(seen).toStrictEqual([{ logger: true, statsContext: true, stateContext: true, signal: false }])
    expect(logs.find((line) => line.msg === 'probe performed with a second part')).toMatchObject({
      level: 'info',
      instance: 'probe-1',
      action: 'record',
      from: 'action'
    })
    expect(metrics).toMatch(/^open_actions_actions_core_stats_total\{instance="probe-1",stat="probe\.performed"\} 2$/m)
    // A name not shaped like actions-core's own constants cannot mint a series of its own.
    expect(metrics).toMatch(/^open_actions_actions_core_stats_total\{instance="probe-1",stat="other"\} 1$/m)
  })

  it('gives each call the same tags: the instance and the action, not one more per delivery', async () => {
    tagsSeen.length = 0
    const { seen } = await runProbe({}, 3)
    expect(seen).toHaveLength(3)
    expect(tagsSeen).toStrictEqual(Array.from({ length: 3 }, () => ['instance:probe-1', 'partnerAction:record']))
  })

  it('passes a signal when delivery.attemptTimeoutMs bounds the attempt', async () => {
    const { seen } = await runProbe({ attemptTimeoutMs: 5_000 })
    expect(seen).toStrictEqual([{ logger: true, statsContext: true, stateContext: true, signal: true }])
  })
})
