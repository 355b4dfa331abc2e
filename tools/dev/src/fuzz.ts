import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type JSONObject, type SegmentEvent, defaultValues } from '@segment/actions-core'
import {
  createSimulators,
  type DeliveryRecord,
  DeliveryRecorder,
  requestContext,
  startSandbox,
  type VendorSimulator
} from '@open-actions/runtime'
// The arbitraries alone: the package index also loads jest's globals, which only exist inside jest.
import { fuzzSeed, segmentEventArbitrary } from '@open-actions/testing/arbitraries'
import fc from 'fast-check'
import { runTool, toolArguments } from './cli-args'
import { type AnyDestination, integrationPackages, loadIntegration, REPO_ROOT } from './workspace'

/** Settings the simulators accept for each integration's destinations. */
const FUZZ_SETTINGS: Record<string, JSONObject> = {
  example: { workspace_id: 'ws_fuzz', api_key: 'fuzz-key', region: 'us' },
  insider: { account_name: 'fuzzstore', ucd_key: 'fuzz-ucd-key' },
  moengage: { api_id: 'FUZZWS', api_key: 'fuzz-moe-key', region: 'DC_02' },
  onesignal: { app_id: '00000000-0000-4000-8000-00000000f022', api_key: 'fuzz-os-key' },
  segment: { write_key: 'fuzz-write-key', region: 'eu' },
  tray: { workflows: ['https://fuzz-one.trayapp.io', 'https://fuzz-two.trayapp.io'], shared_secret: 'fuzz-secret' }
}

/** The fictional Example Vendor of the template package, which the runtime does not ship. */
const exampleSimulator: VendorSimulator = {
  vendor: 'Example Vendor',
  handles: (url) => url.hostname === 'api.example-vendor.com' || url.hostname === 'api.eu.example-vendor.com',
  answer: (request) =>
    /^Bearer\s+\S+/.test(request.headers.get('authorization') ?? '')
      ? { status: 200, body: request.url.pathname.endsWith('/events') ? { accepted: 1, errors: [] } : {} }
      : { status: 401, body: { error: { message: 'missing bearer key' } } }
}

const EVERY_TYPE =
  'type = "track" or type = "identify" or type = "page" or type = "screen" or type = "group" or type = "alias"'

/** The errors an action may end in: actions-core's own, and the errors it raises for invalid mappings and payloads. */
const TYPED_ERRORS = new Set([
  'IntegrationError',
  'PayloadValidationError',
  'InvalidAuthenticationError',
  'RetryableError',
  'APIError',
  'HTTPError',
  'RequestTimeoutError',
  'AggregateAjvError',
  'ValidationError',
  'VendorRetryableError',
  'VendorAuthenticationError',
  'InvalidSettingError',
  'MessageTooLargeError',
  'ProfileNotFoundError'
])

export interface FuzzFinding {
  readonly integration: string
  readonly definition: string
  readonly action: string
  readonly problem: string
  readonly event: unknown
}

export interface FuzzReport {
  readonly seed: number
  readonly runsPerAction: number
  readonly actions: {
    readonly name: string
    readonly runs: number
    readonly delivered: number
    readonly typedErrors: number
    readonly requests: number
  }[]
  readonly findings: FuzzFinding[]
}

/**
 * Seeded fast-check events (valid, edge and malformed) through `Destination.onEvent` for every action of every
 * integration, against the sandbox simulators. Each run must end in success or a typed actions-core error
 * (never a TypeError, ReferenceError or unhandled rejection), and every request that leaves must be one the
 * vendor's simulator accepts.
 */
export async function fuzz(options: { readonly runsPerAction: number; readonly seed?: number }): Promise<FuzzReport> {
  const seed = options.seed ?? fuzzSeed()
  const recorder = new DeliveryRecorder(100_000)
  const sandbox = await startSandbox({ recorder, simulators: [...createSimulators(), exampleSimulator] })
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => unhandled.push(reason)
  process.on('unhandledRejection', onUnhandled)
  const findings: FuzzFinding[] = []
  const actions: FuzzReport['actions'][number][] = []
  try {
    for (const integration of integrationPackages().map(loadIntegration)) {
      const settings = FUZZ_SETTINGS[integration.slug]
      if (!settings) continue
      for (const [definitionKey, definition] of Object.entries(integration.destinations) as [
        string,
        AnyDestination
      ][]) {
        const destination = sandbox.destination(definition, {
          instance: `${integration.slug}/${definitionKey}`
        })
        for (const [actionKey, action] of Object.entries(definition.actions)) {
          const name = `${integration.slug}/${definitionKey}/${actionKey}`
          const subscription = {
            partnerAction: actionKey,
            subscribe: EVERY_TYPE,
            mapping: defaultValues(action.fields)
          }
          const stats = { name, runs: 0, delivered: 0, typedErrors: 0, requests: 0 }
          const record = (event: unknown, problem: string) => {
            if (findings.filter((finding) => finding.action === actionKey && finding.problem === problem).length < 3) {
              findings.push({
                integration: integration.slug,
                definition: definitionKey,
                action: actionKey,
                problem,
                event
              })
            }
          }
          await fc.assert(
            fc.asyncProperty(segmentEventArbitrary, async (event) => {
              stats.runs += 1
              const capture: DeliveryRecord[] = []
              try {
                await requestContext.run({ capture }, () =>
                  destination.onEvent(event as unknown as SegmentEvent, {
                    ...settings,
                    subscriptions: [subscription as unknown as JSONObject]
                  })
                )
                stats.delivered += 1
              } catch (error) {
                const errorName = (error as { name?: unknown }).name
                const status = (error as { status?: unknown }).status
                if (
                  typeof errorName === 'string' &&
                  TYPED_ERRORS.has(errorName) &&
                  (typeof status === 'number' || errorName === 'AggregateAjvError' || errorName === 'ValidationError')
                )
                  stats.typedErrors += 1
                else record(event, `untyped ${String(errorName)}: ${(error as Error).message}`)
              } finally {
                destination.responses.length = 0
              }
              stats.requests += capture.length
              for (const request of capture) {
                const response = request.response
                const refused =
                  !response || !('status' in response) || response.status >= 400 || hasInsiderFailures(response.body)
                if (refused)
                  record(
                    event,
                    `the ${new URL(request.url).hostname} simulator refused ${request.method} ${new URL(request.url).pathname}: ${JSON.stringify(response)}`
                  )
              }
              return true
            }),
            { seed, numRuns: options.runsPerAction, endOnFailure: false }
          )
          actions.push(stats)
          process.stderr.write(`fuzzed ${name}: ${stats.runs} events\n`)
        }
      }
    }
  } finally {
    await new Promise((resolve) => setTimeout(resolve, 50))
    process.off('unhandledRejection', onUnhandled)
    await sandbox.close()
  }
  for (const reason of unhandled)
    findings.push({
      integration: '*',
      definition: '*',
      action: '*',
      problem: `unhandled rejection: ${String(reason)}`,
      event: null
    })
  return { seed, runsPerAction: options.runsPerAction, actions, findings }
}

function hasInsiderFailures(body: unknown): boolean {
  const count = (body as { data?: { fail?: { count?: unknown } } } | undefined)?.data?.fail?.count
  return typeof count === 'number' && count > 0
}

async function main(): Promise<void> {
  const runsPerAction = toolArguments('fuzz', { runs: { type: 'string' } }).number('runs', 2000)
  const started = Date.now()
  const report = await fuzz({ runsPerAction })
  const seconds = (Date.now() - started) / 1000
  console.log(
    `fuzz: seed ${report.seed}, ${report.runsPerAction} events per action, ${report.actions.length} actions, ${seconds.toFixed(1)} s`
  )
  console.log('| action | events | delivered | typed errors | requests |\n|---|---|---|---|---|')
  for (const action of report.actions)
    console.log(
      `| ${action.name} | ${action.runs} | ${action.delivered} | ${action.typedErrors} | ${action.requests} |`
    )
  if (report.findings.length > 0) {
    const file = join(REPO_ROOT, 'tools', 'dev', 'fuzz-findings.json')
    writeFileSync(file, `${JSON.stringify(report.findings, null, 2)}\n`)
    console.error(
      `\n${report.findings.length} finding(s), written to ${file}:\n${report.findings.map((finding) => `  - ${finding.integration}/${finding.definition}/${finding.action}: ${finding.problem}`).join('\n')}`
    )
    process.exitCode = 1
    return
  }
  console.log(
    '\nno findings: every run ended in success or a typed actions-core error, and every request passed its vendor simulator'
  )
}

if (require.main === module) runTool(main)
