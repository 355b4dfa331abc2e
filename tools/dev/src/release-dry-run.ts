import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { integrationPackages, readJson, REPO_ROOT, type PackageJson } from './workspace'

/**
 * What a release would publish, checked before it is: every public package is packed; each tarball must hold its
 * CommonJS and ES module builds with types for both, no source maps, and pass publint and are-the-types-wrong (node10,
 * node16 from CommonJS and from ESM, bundler). Then everything is installed with npm into an empty ES module project
 * and an empty CommonJS project; in each, every destination runs its presets through `new Destination(...).onEvent`,
 * each package's `VERSION` is its package.json version, and Insider's batch is loaded through `import` and `require`
 * in one process: one copy of the package and of actions-core, so a record Insider refuses is reported as failed.
 */
interface Packed {
  readonly name: string
  readonly version: string
  readonly tarball: string
}

function run(command: string, args: readonly string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

function publicPackages(): { name: string; version: string; dir: string }[] {
  const directories = [
    join(REPO_ROOT, 'packages', 'core'),
    ...integrationPackages().map((integration) => integration.dir),
    join(REPO_ROOT, 'packages', 'runtime')
  ]
  return directories
    .map((dir) => ({ dir, packageJson: readJson<PackageJson>(join(dir, 'package.json')) }))
    .filter(({ packageJson }) => !packageJson.private)
    .map(({ dir, packageJson }) => ({ name: packageJson.name, version: packageJson.version, dir }))
}

function pack(destination: string): Packed[] {
  return publicPackages().map(({ name, version, dir }) => {
    const before = new Set(readdirSync(destination))
    run('pnpm', ['pack', '--pack-destination', destination], dir)
    const tarball = readdirSync(destination).find((file) => !before.has(file) && file.endsWith('.tgz'))
    if (!tarball) throw new Error(`pnpm pack produced no tarball for ${name}`)
    return { name, version, tarball: join(destination, tarball) }
  })
}

function checkTarball(packed: Packed): string[] {
  const problems: string[] = []
  const files = run('tar', ['tzf', packed.tarball], REPO_ROOT).split('\n')
  for (const required of [
    'package/dist/index.js',
    'package/dist/index.d.ts',
    'package/dist/index.mjs',
    'package/dist/index.d.mts',
    'package/README.md',
    'package/package.json'
  ]) {
    if (!files.includes(required))
      problems.push(`${packed.name}: the tarball has no ${required.replace('package/', '')}`)
  }
  if (files.some((file) => file.endsWith('.test.js') || file.includes('__fixtures__')))
    problems.push(`${packed.name}: the tarball ships tests or fixtures`)
  if (files.some((file) => file.endsWith('.map')))
    problems.push(`${packed.name}: the tarball ships source maps (they would point at sources it does not ship)`)
  if (files.some((file) => file.includes('workspace:')))
    problems.push(`${packed.name}: the tarball still has workspace: ranges`)
  try {
    run(join(REPO_ROOT, 'node_modules', '.bin', 'publint'), [packed.tarball, '--strict'], REPO_ROOT)
  } catch (error) {
    problems.push(`${packed.name}: publint: ${String((error as { stdout?: string }).stdout ?? error).trim()}`)
  }
  try {
    run(join(REPO_ROOT, 'node_modules', '.bin', 'attw'), [packed.tarball, '--format', 'ascii'], REPO_ROOT)
  } catch (error) {
    problems.push(
      `${packed.name}: are-the-types-wrong: ${String((error as { stdout?: string }).stdout ?? error).trim()}`
    )
  }
  return problems
}

/** The check each consumer project runs: `load` is `import` or `require`, as that project would write it. */
function consumerScript(packages: readonly Packed[], format: 'esm' | 'cjs'): string {
  const integrations = packages
    .filter((entry) => entry.name !== '@open-actions/core' && entry.name !== '@open-actions/runtime')
    .map((entry) => entry.name)
  const header =
    format === 'esm'
      ? `import { createRequire } from 'node:module'
const require = createRequire(import.meta.url)
const load = (name) => import(name)`
      : `const load = async (name) => require(name)`
  return `${header}
const { Destination } = require('@segment/actions-core')
const nock = require('nock')
const problems = []
const event = { type: 'identify', userId: 'u-1', anonymousId: 'a-1', messageId: 'm-1', timestamp: '2024-05-01T12:00:00.000Z', traits: { email: 'jane@example.com' }, context: {} }
const versions = ${JSON.stringify(Object.fromEntries(packages.map((entry) => [entry.name, entry.version])))}
async function main() {
  nock.disableNetConnect()
  for (const name of Object.keys(versions)) {
    const loaded = await load(name)
    if (loaded.VERSION !== versions[name]) problems.push(name + ': VERSION is ' + loaded.VERSION + ', package.json says ' + versions[name])
  }
  for (const name of ${JSON.stringify(integrations)}) {
    const module = await load(name)
    for (const [key, value] of Object.entries(module)) {
      if (!value || typeof value !== 'object' || !('actions' in value) || !('mode' in value)) continue
      const destination = new Destination(value)
      const subscriptions = (value.presets || []).filter((preset) => preset.type === 'automatic').map((preset) => ({ partnerAction: preset.partnerAction, subscribe: preset.subscribe, mapping: preset.mapping }))
      try {
        destination.validateSettings({})
      } catch (error) {
        if (!/must have|required|missing/i.test(error.message)) problems.push(name + '.' + key + ': ' + error.message)
      }
      try {
        // Settings validation and FQL run; the request itself fails without network, which is not the point here.
        await destination.onEvent(event, { subscriptions: subscriptions.slice(0, 1) })
      } catch (error) {
        if (/URI|Cannot find module/.test(error.message)) problems.push(name + '.' + key + ': ' + error.message)
      }
    }
  }
  // One copy whatever the format: the package through import and require is one module, on one actions-core.
  const imported = await import('@open-actions/insider')
  const required = require('@open-actions/insider')
  if (imported.destination !== required.destination) problems.push('@open-actions/insider: import and require gave two copies')
  const scope = nock('https://unification.useinsider.com')
    .post('/api/user/v1/upsert')
    .reply(200, { data: { successful: { count: 1 }, fail: { count: 1, errors: { 'users.1.events.0.event_params.*.required': ['event_params.currency is required for purchase'] } } } })
  const insider = new Destination(imported.destination)
  const preset = imported.destination.presets.find((entry) => entry.partnerAction === 'trackEvent' && entry.type === 'automatic')
  const track = (n) => ({ type: 'track', event: 'Newsletter Subscribed', userId: 'u-' + n, messageId: 'b-' + n, timestamp: '2024-05-01T12:00:00.000Z', properties: { n }, context: {} })
  const output = await insider.onBatch([track(0), track(1)], {
    account_name: 'consumer',
    ucd_key: 'consumer-ucd-key',
    subscriptions: [{ partnerAction: preset.partnerAction, subscribe: preset.subscribe, mapping: preset.mapping }]
  })
  const statuses = (output.find((result) => result.multistatus) || {}).multistatus?.map((node) => node.status)
  if (!scope.isDone()) problems.push('@open-actions/insider: the batch never reached Insider')
  if (JSON.stringify(statuses) !== JSON.stringify([200, 400]))
    problems.push('@open-actions/insider: a record Insider refused is not reported as failed: ' + JSON.stringify(statuses))
  const runtime = await load('@open-actions/runtime')
  if (runtime.manifest.length < 6) problems.push('@open-actions/runtime: manifest has ' + runtime.manifest.length + ' integrations')
  if (problems.length) { console.error(problems.join('\\n')); process.exit(1) }
  console.log('${format === 'esm' ? 'ES module' : 'CommonJS'} consumer: every destination ran through onEvent; VERSION stamped; one Insider and one actions-core through import and require, the refused record failed')
}
main()
`
}

/** Installs every tarball with npm into an empty ES module project and an empty CommonJS project, and runs them. */
function installAndRun(packages: readonly Packed[]): string[] {
  const problems: string[] = []
  for (const format of ['esm', 'cjs'] as const) {
    const project = mkdtempSync(join(tmpdir(), `open-actions-consumer-${format}-`))
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify(
        {
          name: `consumer-${format}`,
          version: '1.0.0',
          private: true,
          ...(format === 'esm' ? { type: 'module' } : {})
        },
        null,
        2
      )
    )
    run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        'nock@14.0.9',
        ...packages.map((entry) => entry.tarball)
      ],
      project
    )
    const file = join(project, format === 'esm' ? 'check.mjs' : 'check.cjs')
    writeFileSync(file, consumerScript(packages, format))
    try {
      console.log(run('node', [file], project).trim())
    } catch (error) {
      problems.push(`${format} project: ${String((error as { stderr?: string }).stderr ?? error).trim()}`)
    }
  }
  return problems
}

function main(): void {
  const destination = mkdtempSync(join(tmpdir(), 'open-actions-pack-'))
  const packed = pack(destination)
  const problems = [...packed.flatMap(checkTarball), ...installAndRun(packed)]
  if (problems.length > 0) {
    console.error(`release dry run failed:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`)
    process.exitCode = 1
    return
  }
  console.log(
    `release dry run: ${packed.length} packages packed, checked with publint and are-the-types-wrong, installed with npm and run:\n${packed.map((entry) => `  - ${entry.name}`).join('\n')}`
  )
}

if (require.main === module) main()
