import { runTool, toolArguments } from './cli-args'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import type { InputField } from '@segment/actions-core'
import { parseFql } from '@segment/destination-subscriptions'
import { pendingBumps } from './changesets'
import { breakingChanges, contractOf, type PackageContract } from './contract'
import {
  type AnyDestination,
  integrationPackages,
  type LoadedIntegration,
  loadIntegration,
  readJson,
  REPO_ROOT
} from './workspace'

/** Setting keys that name a credential: they must be `password` fields so every runtime redacts them. */
const SECRET_KEY = /(^|_)(key|secret|token|password|api_key|write_key)$/i

function checkFields(where: string, fields: Record<string, InputField>, problems: string[]): void {
  for (const [key, field] of Object.entries(fields)) {
    if (!field.description || field.description.trim() === '')
      problems.push(`${where}: field "${key}" has no description`)
    if (!field.label) problems.push(`${where}: field "${key}" has no label`)
  }
}

/** The checks of one destination definition: FQL, presets, secrets, regions, descriptions. */
export function checkDestination(where: string, definition: AnyDestination): string[] {
  const problems: string[] = []
  if (!definition.description) problems.push(`${where}: the destination has no description`)
  if (!definition.slug) problems.push(`${where}: the destination has no slug`)
  const settings = definition.authentication?.fields ?? {}
  for (const [key, field] of Object.entries(settings)) {
    if (!field.description) problems.push(`${where}: setting "${key}" has no description`)
    if (SECRET_KEY.test(key) && field.type !== 'password')
      problems.push(
        `${where}: setting "${key}" looks like a secret but is a ${field.type} field; make it type "password" so it is redacted`
      )
    if (field.choices && field.default !== undefined) {
      const values = field.choices.map((choice) => (typeof choice === 'string' ? choice : choice.value))
      if (!values.includes(field.default as string))
        problems.push(
          `${where}: setting "${key}" defaults to ${JSON.stringify(field.default)}, which is not one of its choices (${values.join(', ')})`
        )
    }
  }
  for (const [actionKey, action] of Object.entries(definition.actions)) {
    const at = `${where}.${actionKey}`
    if (!action.description) problems.push(`${at}: the action has no description`)
    if (action.defaultSubscription && 'error' in parseFql(action.defaultSubscription))
      problems.push(`${at}: defaultSubscription ${JSON.stringify(action.defaultSubscription)} is not valid FQL`)
    checkFields(at, action.fields, problems)
  }
  for (const preset of definition.presets ?? []) {
    if (preset.type !== 'automatic') continue
    const at = `${where}: preset "${preset.name}"`
    const action = definition.actions[preset.partnerAction]
    if (!action) {
      problems.push(`${at} points at action "${preset.partnerAction}", which does not exist`)
      continue
    }
    if ('error' in parseFql(preset.subscribe))
      problems.push(`${at}: subscribe ${JSON.stringify(preset.subscribe)} is not valid FQL`)
    for (const key of Object.keys(preset.mapping ?? {})) {
      if (!(key in action.fields)) problems.push(`${at} maps "${key}", which is not a field of ${preset.partnerAction}`)
    }
  }
  return problems
}

function hasTests(directory: string): boolean {
  return readdirSync(directory, { withFileTypes: true }).some((entry) =>
    entry.isDirectory()
      ? entry.name !== '__fixtures__' && hasTests(join(directory, entry.name))
      : entry.name.endsWith('.test.ts')
  )
}

/** The shape every package keeps: README, CHANGELOG, a named-export index, tests, publishable metadata. */
export function checkPackageShape(directory: string): string[] {
  const where = relative(REPO_ROOT, directory)
  const problems: string[] = []
  for (const file of ['README.md', 'CHANGELOG.md', 'src/index.ts', 'package.json']) {
    if (!existsSync(join(directory, file))) problems.push(`${where}: ${file} is missing`)
  }
  if (existsSync(join(directory, 'src/index.ts'))) {
    const index = readFileSync(join(directory, 'src/index.ts'), 'utf8')
    if (/export default/.test(index))
      problems.push(`${where}: src/index.ts has a default export; export names explicitly`)
    if (!/export const VERSION/.test(index)) problems.push(`${where}: src/index.ts does not export VERSION`)
    if (!/export \{/.test(index)) problems.push(`${where}: src/index.ts has no named exports`)
  }
  if (existsSync(join(directory, 'src')) && !hasTests(join(directory, 'src')))
    problems.push(`${where}: no *.test.ts beside the code`)
  const packageJson = readJson<Record<string, unknown>>(join(directory, 'package.json'))
  if (!String(packageJson.name).startsWith('@open-actions/'))
    problems.push(`${where}: package name must be in the @open-actions scope`)
  for (const key of ['version', 'description', 'license', 'main', 'types', 'exports', 'files']) {
    if (packageJson[key] === undefined) problems.push(`${where}: package.json has no "${key}"`)
  }
  if (!packageJson.private && (packageJson.publishConfig as { access?: string } | undefined)?.access !== 'public')
    problems.push(`${where}: publishConfig.access must be "public"`)
  return problems
}

export function contractFile(integration: { dir: string }): string {
  return join(integration.dir, 'contract.json')
}

/** The breaking-change guard: a breaking difference from the released contract needs a major changeset. */
export function checkContract(integration: LoadedIntegration, bumps: ReadonlyMap<string, string>): string[] {
  const file = contractFile(integration)
  if (!existsSync(file)) {
    // A package that was never released (changesets has written no version into its CHANGELOG) has no contract yet.
    const changelog = join(integration.dir, 'CHANGELOG.md')
    const released = existsSync(changelog) && /^## \d/m.test(readFileSync(changelog, 'utf8'))
    return released
      ? [`${relative(REPO_ROOT, file)} is missing: the package was released, so its contract must be kept`]
      : []
  }
  const released = readJson<PackageContract>(file)
  const current = contractOf(integration.packageJson.name, integration.destinations, integration.sources)
  const changes = breakingChanges(released, current)
  if (changes.length === 0 || bumps.get(integration.packageJson.name) === 'major') return []
  return changes.map(
    (change) => `${integration.packageJson.name}: breaking change without a major changeset: ${change}`
  )
}

export function runChecks(options: { readonly updateContracts: boolean }): string[] {
  const problems: string[] = []
  const bumps = pendingBumps()
  for (const integration of integrationPackages().map(loadIntegration)) {
    for (const [key, definition] of Object.entries(integration.destinations))
      problems.push(...checkDestination(`${integration.slug}/${key}`, definition))
    for (const [key, source] of Object.entries(integration.sources)) {
      if (!source.description) problems.push(`${integration.slug}/${key}: the source has no description`)
    }
    if (Object.keys(integration.destinations).length + Object.keys(integration.sources).length === 0)
      problems.push(`${integration.slug}: exports no destination or source`)
    problems.push(...checkPackageShape(integration.dir))
    if (options.updateContracts) {
      writeFileSync(
        contractFile(integration),
        `${JSON.stringify(contractOf(integration.packageJson.name, integration.destinations, integration.sources), null, 2)}\n`
      )
    } else problems.push(...checkContract(integration, bumps))
  }
  for (const directory of ['packages/core', 'packages/runtime'])
    problems.push(...checkPackageShape(join(REPO_ROOT, directory)))
  return problems
}

async function main(): Promise<void> {
  const args = toolArguments('check-definitions', { 'update-contracts': { type: 'boolean' } })
  const problems = runChecks({ updateContracts: args.flag('update-contracts') })
  if (problems.length > 0) {
    console.error(
      `check-definitions found ${problems.length} problem(s):\n${problems.map((problem) => `  - ${problem}`).join('\n')}`
    )
    process.exitCode = 1
    return
  }
  console.log(
    'check-definitions: every definition, preset, secret, region, description, package shape and contract is in order'
  )
}

if (require.main === module) runTool(main)
