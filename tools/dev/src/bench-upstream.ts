import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import type { DestinationDefinition, JSONObject, SegmentEvent } from '@segment/actions-core'
import { presetsFromActions, presetSubscriptions, type Subscription } from '@open-actions/core'
import { DeliveryRecorder, registry, type RuntimeDestinationDefinition, startSandbox } from '@open-actions/runtime'
import * as events from '@open-actions/testing/events'
import { runTool, toolArguments } from './cli-args'
import { REPO_ROOT } from './workspace'

/**
 * `pnpm bench:upstream`: our Insider definition against upstream's published one (`@segment/action-destinations`, its
 * `dist/destinations/insider`, which needs only actions-core), both through plain actions-core `Destination.onEvent`
 * with actions-core's own client against the same sandbox simulators and the same events: upstream with its actions'
 * default subscriptions, ours with its presets; then each with its identify subscription alone. Downloads the pinned
 * upstream package once (`npm pack`, into `tools/dev/.cache`, not committed).
 */

const UPSTREAM = '@segment/action-destinations@3.497.0'
const CACHE = join(REPO_ROOT, 'tools', 'dev', '.cache')
const SETTINGS = { account_name: 'benchstore', ucd_key: 'bench-key' }

function upstreamInsider(): RuntimeDestinationDefinition {
  const folder = join(CACHE, 'package', 'dist', 'destinations', 'insider')
  if (!existsSync(folder)) {
    mkdirSync(CACHE, { recursive: true })
    const tarball = execFileSync('npm', ['pack', UPSTREAM, '--silent'], { cwd: CACHE, encoding: 'utf8' }).trim()
    execFileSync('tar', ['xzf', tarball, 'package/dist/destinations/insider'], { cwd: CACHE })
  }
  // Resolved from tools/dev: its `require('@segment/actions-core')` finds this workspace's copy (3.170.0).
  return (createRequire(__filename)(folder) as { default: RuntimeDestinationDefinition }).default
}

/** Upstream's subscriptions: each action's default subscription and its fields' default mappings. */
function defaultSubscriptions(definition: RuntimeDestinationDefinition): Subscription[] {
  return presetSubscriptions({ presets: presetsFromActions(definition.actions) })
}

async function main(): Promise<void> {
  const args = toolArguments('bench:upstream', { events: { type: 'string' }, runs: { type: 'string' } })
  const count = args.number('events', 3000)
  const runs = args.number('runs', 3)
  const upstream = upstreamInsider()
  const ours = registry.get('insider')?.destinations.destination
  if (!ours) throw new Error('no Insider destination')
  const sandbox = await startSandbox({ recorder: new DeliveryRecorder(10) })
  const identifies = Array.from({ length: 200 + count }, (_, index) =>
    events.identifyEvent({ messageId: `upstream-${index}`, userId: `u-${index % 1000}` })
  )
  const arms: [string, DestinationDefinition<JSONObject>, Subscription[]][] = [
    ['upstream, all default subscriptions', upstream, defaultSubscriptions(upstream)],
    ['ours, all presets', ours, presetSubscriptions(ours)],
    [
      'upstream, identify subscription alone',
      upstream,
      defaultSubscriptions(upstream).filter((entry) => entry.partnerAction === 'updateUserProfile')
    ],
    [
      'ours, identify subscription alone',
      ours,
      presetSubscriptions(ours).filter((entry) => entry.partnerAction === 'updateUserProfile')
    ]
  ]
  const rates = new Map<string, number[]>(arms.map(([name]) => [name, []]))
  try {
    for (let run = 0; run < runs; run += 1)
      for (const [name, definition, subscriptions] of arms) {
        const destination = sandbox.destination(definition, { client: 'actions-core' })
        const settings = { ...SETTINGS, subscriptions: subscriptions as unknown as JSONObject[] }
        const send = async (event: SegmentEvent) => {
          await destination.onEvent(event, settings)
          destination.responses.length = 0
        }
        for (const event of identifies.slice(0, 200)) await send(event)
        const started = process.hrtime.bigint()
        for (const event of identifies.slice(200)) await send(event)
        rates.get(name)?.push(Math.round(count / (Number(process.hrtime.bigint() - started) / 1e9)))
      }
  } finally {
    await sandbox.close()
  }
  const sum = (name: string) => (rates.get(name) ?? []).reduce((total, rate) => total + rate, 0)
  console.log(`Insider identify under plain actions-core, ${count} events per run, ${runs} runs (events/s)\n`)
  console.log('| arm | events/s per run |\n|---|---|')
  for (const [name] of arms) console.log(`| ${name} | ${(rates.get(name) ?? []).join(' / ')} |`)
  console.log(
    `\nours ÷ upstream: ${(sum('ours, all presets') / sum('upstream, all default subscriptions')).toFixed(2)} (all), ${(
      sum('ours, identify subscription alone') / sum('upstream, identify subscription alone')
    ).toFixed(2)} (identify alone)`
  )
}

if (require.main === module) runTool(main)
