import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { DestinationDefinition, JSONObject } from '@segment/actions-core'
import type { SourceDefinition } from '@open-actions/core'

export const REPO_ROOT = resolve(__dirname, '..', '..', '..')
export const INTEGRATIONS_DIR = join(REPO_ROOT, 'packages', 'integrations')

export interface PackageJson {
  readonly name: string
  readonly version: string
  readonly private?: boolean
  readonly description?: string
  readonly main?: string
  readonly types?: string
  readonly dependencies?: Record<string, string>
}

export interface IntegrationPackage {
  /** Folder name under packages/integrations. */
  readonly slug: string
  readonly dir: string
  readonly packageJson: PackageJson
}

export function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T
}

/** Every integration package of the workspace, sorted by folder name. */
export function integrationPackages(): IntegrationPackage[] {
  return readdirSync(INTEGRATIONS_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(INTEGRATIONS_DIR, entry.name, 'package.json')))
    .map((entry) => ({
      slug: entry.name,
      dir: join(INTEGRATIONS_DIR, entry.name),
      packageJson: readJson<PackageJson>(join(INTEGRATIONS_DIR, entry.name, 'package.json'))
    }))
    .sort((a, b) => a.slug.localeCompare(b.slug))
}

export type AnyDestination = DestinationDefinition<JSONObject>
export type AnySource = SourceDefinition<unknown, unknown>

export function isDestinationDefinition(value: unknown): value is AnyDestination {
  return typeof value === 'object' && value !== null && 'actions' in value && 'mode' in value && 'name' in value
}

export function isSourceDefinition(value: unknown): value is AnySource {
  return typeof value === 'object' && value !== null && 'toMessages' in value && 'payloadSchema' in value
}

export interface LoadedIntegration extends IntegrationPackage {
  readonly destinations: Record<string, AnyDestination>
  readonly sources: Record<string, AnySource>
}

/** Loads a package's built entry point (run `pnpm build` first) and sorts its exports into destinations and sources. */
export function loadIntegration(integration: IntegrationPackage): LoadedIntegration {
  const entry = join(integration.dir, integration.packageJson.main ?? 'dist/index.js')
  if (!existsSync(entry))
    throw new Error(`${integration.packageJson.name} is not built (${entry} is missing): run pnpm build first`)
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loading a built package whose path is only known at run time
  const exports = require(entry) as Record<string, unknown>
  const destinations: Record<string, AnyDestination> = {}
  const sources: Record<string, AnySource> = {}
  for (const [name, value] of Object.entries(exports).sort(([a], [b]) => a.localeCompare(b))) {
    if (isDestinationDefinition(value)) destinations[name] = value
    else if (isSourceDefinition(value)) sources[name] = value
  }
  return { ...integration, destinations, sources }
}
