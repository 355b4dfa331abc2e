import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { integrationPackages, readJson, REPO_ROOT, type PackageJson } from './workspace'

/**
 * What a release would publish, checked before it is: every public package is packed; each tarball must hold
 * built JS and types, pass publint and are-the-types-wrong, and install with npm into an empty project where
 * `new Destination(destination)` from that install runs its presets through `onEvent`.
 */
interface Packed {
  readonly name: string
  readonly tarball: string
}

function run(command: string, args: readonly string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

function publicPackages(): { name: string; dir: string }[] {
  const directories = [
    join(REPO_ROOT, 'packages', 'core'),
    ...integrationPackages().map((integration) => integration.dir),
    join(REPO_ROOT, 'packages', 'runtime')
  ]
  return directories
    .map((dir) => ({ dir, packageJson: readJson<PackageJson>(join(dir, 'package.json')) }))
    .filter(({ packageJson }) => !packageJson.private)
    .map(({ dir, packageJson }) => ({ name: packageJson.name, dir }))
}

function pack(destination: string): Packed[] {
  return publicPackages().map(({ name, dir }) => {
    const before = new Set(readdirSync(destination))
    run('pnpm', ['pack', '--pack-destination', destination], dir)
    const tarball = readdirSync(destination).find((file) => !before.has(file) && file.endsWith('.tgz'))
    if (!tarball) throw new Error(`pnpm pack produced no tarball for ${name}`)
    return { name, tarball: join(destination, tarball) }
  })
}

function checkTarball(packed: Packed): string[] {
  const problems: string[] = []
  const files = run('tar', ['tzf', packed.tarball], REPO_ROOT).split('\n')
  for (const required of [
    'package/dist/index.js',
    'package/dist/index.d.ts',
    'package/README.md',
    'package/package.json'
  ]) {
    if (!files.includes(required))
      problems.push(`${packed.name}: the tarball has no ${required.replace('package/', '')}`)
  }
  if (files.some((file) => file.endsWith('.test.js') || file.includes('__fixtures__')))
    problems.push(`${packed.name}: the tarball ships tests or fixtures`)
  if (files.some((file) => file.includes('workspace:')))
    problems.push(`${packed.name}: the tarball still has workspace: ranges`)
  try {
    run(join(REPO_ROOT, 'node_modules', '.bin', 'publint'), [packed.tarball, '--strict'], REPO_ROOT)
  } catch (error) {
    problems.push(`${packed.name}: publint: ${String((error as { stdout?: string }).stdout ?? error).trim()}`)
  }
  try {
    run(
      join(REPO_ROOT, 'node_modules', '.bin', 'attw'),
      [packed.tarball, '--profile', 'node16', '--format', 'ascii'],
      REPO_ROOT
    )
  } catch (error) {
    problems.push(
      `${packed.name}: are-the-types-wrong: ${String((error as { stdout?: string }).stdout ?? error).trim()}`
    )
  }
  return problems
}

/** Installs every tarball with npm in an empty project and runs each destination's presets there. */
function installAndRun(packages: readonly Packed[]): string[] {
  const project = mkdtempSync(join(tmpdir(), 'open-actions-consumer-'))
  mkdirSync(project, { recursive: true })
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }, null, 2)
  )
  run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--loglevel=error', ...packages.map((entry) => entry.tarball)],
    project
  )
  const script = `
const { Destination } = require('@segment/actions-core')
const problems = []
const event = { type: 'identify', userId: 'u-1', anonymousId: 'a-1', messageId: 'm-1', timestamp: '2024-05-01T12:00:00.000Z', traits: { email: 'jane@example.com' }, context: {} }
async function main() {
  for (const name of ${JSON.stringify(packages.filter((entry) => entry.name !== '@open-actions/core' && entry.name !== '@open-actions/runtime').map((entry) => entry.name))}) {
    const module = require(name)
    for (const [key, value] of Object.entries(module)) {
      if (!value || typeof value !== 'object' || !('actions' in value) || !('mode' in value)) continue
      const destination = new Destination(value)
      const subscriptions = (value.presets || []).filter((preset) => preset.type === 'automatic').map((preset) => ({ partnerAction: preset.partnerAction, subscribe: preset.subscribe, mapping: preset.mapping }))
      try {
        // Settings validation and FQL run; the request itself may fail without network, which is not the point here.
        destination.validateSettings({})
      } catch (error) {
        if (!/must have|required|missing/i.test(error.message)) problems.push(name + '.' + key + ': ' + error.message)
      }
      try {
        await destination.onEvent(event, { subscriptions: subscriptions.slice(0, 1) })
      } catch (error) {
        if (/URI|Cannot find module/.test(error.message)) problems.push(name + '.' + key + ': ' + error.message)
      }
    }
  }
  const runtime = require('@open-actions/runtime')
  if (runtime.manifest.length < 6) problems.push('@open-actions/runtime: manifest has ' + runtime.manifest.length + ' integrations')
  if (problems.length) { console.error(problems.join('\\n')); process.exit(1) }
  console.log('consumer project: every destination constructed and ran through onEvent')
}
main()
`
  try {
    console.log(run('node', ['-e', script], project).trim())
    return []
  } catch (error) {
    return [`clean npm install: ${String((error as { stderr?: string }).stderr ?? error).trim()}`]
  }
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
