import { afterEach, describe, expect, it } from '@jest/globals'
import type { JSONObject } from '@segment/actions-core'
import { createRedactor, presetSubscriptions } from '@open-actions/core'
import { resolveConfig } from '../config'
import { RuntimeMetrics } from '../metrics'
import { temporaryStateDir } from '../runtime-harness.test-helpers'
import { registry } from '../start'
import { buildLanes, type DestinationTarget } from '../targets'
import { InstanceTransport } from '../transport/http-transport'
import { DeliveryRecorder } from '../transport/recorder'

/*
 * Why an action stays on actions-core, decided once per configuration: each reason is one an operator can act on, and
 * nothing about a subscription the fast path cannot prepare stops the configuration from starting.
 */

const transports: InstanceTransport[] = []

afterEach(async () => {
  await Promise.all(transports.splice(0).map((transport) => transport.close()))
})

function pathsOf(settings: JSONObject, subscriptions?: unknown[]) {
  const resolved = resolveConfig(
    {
      stateDir: temporaryStateDir(),
      destinations: [
        {
          id: 'moengage',
          integration: 'moengage',
          settings,
          ...(subscriptions ? { subscriptions: subscriptions as never } : {})
        }
      ]
    },
    registry
  )
  return (extra: Record<string, unknown> = {}) => {
    const configured = {
      ...resolved,
      destinations: resolved.destinations.map((instance) => ({
        ...instance,
        settings: { ...instance.settings, ...extra } as JSONObject
      }))
    }
    const lanes = buildLanes(configured, (spec) => {
      const transport = new InstanceTransport({
        instance: spec.instance,
        mode: 'sandbox',
        connections: 1,
        simulatorPorts: [1],
        recorder: new DeliveryRecorder(1),
        redactor: () => createRedactor([]),
        metrics: new RuntimeMetrics()
      })
      transports.push(transport)
      return transport
    })
    return [...(lanes.get('moengage')?.targets.values() ?? [])].map((target) => (target as DestinationTarget).path)
  }
}

const SETTINGS = { api_id: 'PATHWS', api_key: 'path-moe-key', region: 'DC_01' }

describe('the execution path chosen for each subscription', () => {
  it('is compiled for every preset of a well-configured instance', () => {
    const paths = pathsOf(SETTINGS)()
    expect(paths.length).toBe(presetSubscriptions(registry.get('moengage')?.destinations.destination as never).length)
    for (const path of paths) expect(path).toStrictEqual({ path: 'compiled' })
  })

  it('stays on actions-core when actions-core refuses the settings, so its own error reaches the delivery', () => {
    for (const path of pathsOf(SETTINGS)({ region: 'NOWHERE' }))
      expect(path).toStrictEqual({
        path: 'actions-core',
        reason:
          'the settings fail actions-core\'s validation (Data Center must be one of: "DC_01", "DC_02", "DC_03", "DC_04", "DC_05", "DC_06", or "DC_101".)'
      })
  })

  it('stays on actions-core, with the reason, when preparing fails in a way no rule foresaw', () => {
    // A value no configuration file can hold (a function), as an application embedding the runtime might pass.
    for (const path of pathsOf(SETTINGS)({ hook: () => undefined }))
      expect(path).toStrictEqual({
        path: 'actions-core',
        reason: expect.stringMatching(/^the fast path could not prepare it \(/)
      })
  })

  it('stays on actions-core for a mapping actions-core refuses, naming the field', () => {
    const paths = pathsOf(SETTINGS, [
      {
        partnerAction: 'identifyUser',
        subscribe: 'type = "identify"',
        mapping: { user_id: { '@path': 42 } }
      }
    ])()
    expect(paths).toStrictEqual([
      {
        path: 'actions-core',
        reason:
          'actions-core refuses the mapping: /user_id/@path should be a string or a mapping directive but it is a number.'
      }
    ])
  })
})
