import { describe, expect, it } from '@jest/globals'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { processMetrics, RuntimeMetrics } from './metrics'

/*
 * The process's own metrics (prom-client's defaults) are collected once per process and rendered with each runtime's:
 * prom-client never stops collecting them, so a set per runtime kept every closed runtime reachable.
 */

setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void

/** Whether `target` is still reachable once this job ends and the heap has been collected. */
async function stillReachable(target: WeakRef<object>): Promise<boolean> {
  for (let round = 0; round < 5; round += 1) {
    // A WeakRef keeps its target until the current job ends: yield to a new macrotask before each collection.
    await new Promise((resolve) => setImmediate(resolve))
    collectGarbage()
    if (target.deref() === undefined) return false
  }
  return true
}

function sources(state: { backlog: number }) {
  return {
    backlog: () => state.backlog,
    waiting: () => 0,
    sending: () => 0,
    storeHealthy: () => true,
    counts: async () => ({ oldestPendingAt: undefined, deadLettersByInstance: {} })
  }
}

describe('runtime metrics', () => {
  it('renders its own metrics and the process’s, each family once, with one process registry for all runtimes', async () => {
    const first = new RuntimeMetrics()
    const second = new RuntimeMetrics()
    first.registerGauges(sources({ backlog: 3 }))
    first.eventsReceived.inc({ type: 'track' })
    const text = await first.render()
    for (const family of [
      '# TYPE open_actions_events_received_total counter',
      '# TYPE open_actions_backlog_deliveries gauge',
      '# TYPE process_cpu_user_seconds_total counter',
      '# TYPE nodejs_eventloop_lag_seconds gauge',
      '# TYPE nodejs_gc_duration_seconds histogram'
    ])
      expect(text.split(family).length - 1).toBe(1)
    expect(text).toMatch(/^open_actions_events_received_total\{type="track"\} 1$/m)
    expect(text).toMatch(/^open_actions_backlog_deliveries 3$/m)
    // Families are separated by one blank line, as prom-client separates them.
    expect(text).not.toMatch(/\n\n\n/)
    expect(await second.render()).not.toContain('open_actions_backlog_deliveries 3')
    expect(processMetrics()).toBe(processMetrics())
  })

  it('keeps nothing of a runtime reachable once the runtime lets go of its metrics', async () => {
    let state: { backlog: number } | undefined = { backlog: 1 }
    const reference = new WeakRef(state)
    let metrics: RuntimeMetrics | undefined = new RuntimeMetrics()
    metrics.registerGauges(sources(state))
    expect(await metrics.render()).toMatch(/^open_actions_backlog_deliveries 1$/m)
    state = undefined
    metrics = undefined
    expect(await stillReachable(reference)).toBe(false)
  })
})
