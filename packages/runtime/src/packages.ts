import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import * as ownActionsCore from '@segment/actions-core'
import type { IntegrationEntry, RuntimeDestinationDefinition } from './registry'

/**
 * The parts of `@segment/actions-core` the runtime runs a definition with. A definition loaded from another package
 * tree may come with its own copy: it must run with that copy, so that the classes it checks with `instanceof`
 * (`MultiStatusResponse`, `IntegrationError`, actions-core's own `Response`) are the ones its actions-core creates.
 */
export interface ActionsCoreKit {
  readonly Destination: typeof ownActionsCore.Destination
  readonly createRequestClient: typeof ownActionsCore.createRequestClient
  /** Where it was loaded from (the runtime's own copy, or the package's). */
  readonly file: string
  /** The runtime's own copy: the runtime's request client may replace the definition's. */
  readonly own: boolean
}

const runtimeRequire = createRequire(__filename)
const OWN_FILE = runtimeRequire.resolve('@segment/actions-core')
export const OWN_ACTIONS_CORE: ActionsCoreKit = {
  Destination: ownActionsCore.Destination,
  createRequestClient: ownActionsCore.createRequestClient,
  file: OWN_FILE,
  own: true
}

/** The actions-core each definition runs with; a definition not listed here runs with the runtime's own. */
const kits = new WeakMap<object, ActionsCoreKit>()

export function actionsCoreFor(definition: object): ActionsCoreKit {
  return kits.get(definition) ?? OWN_ACTIONS_CORE
}

/** A package named by an instance could not be used: the message names the instance and what is wrong. */
export class PackageLoadError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'PackageLoadError'
  }
}

/** A package path (relative to the configuration's folder, or absolute), as opposed to an npm name. */
export function isPathSpec(spec: string): boolean {
  return isAbsolute(spec) || spec.startsWith('./') || spec.startsWith('../') || spec === '.' || spec === '..'
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Why a value is not an actions-core destination definition (undefined when it is one): a `name`, `mode: "cloud"` and
 * `actions`, each with `title`, `fields` and a `perform` function; `authentication.fields`, when present, an object.
 */
export function notADestination(value: unknown): string | undefined {
  if (!isRecord(value)) return `it is ${value === null ? 'null' : typeof value}, not a destination definition object`
  if (typeof value.name !== 'string' || value.name === '') return 'it has no "name"'
  if (value.mode !== 'cloud')
    return `its mode is ${JSON.stringify(value.mode)}, not "cloud" (device mode cannot run on a server)`
  if (!isRecord(value.actions) || Object.keys(value.actions).length === 0) return 'it has no "actions"'
  for (const [key, action] of Object.entries(value.actions)) {
    if (!isRecord(action)) return `its action "${key}" is not an object`
    if (typeof action.perform !== 'function') return `its action "${key}" has no perform function`
    if (!isRecord(action.fields)) return `its action "${key}" has no "fields"`
  }
  if (value.authentication !== undefined && !(isRecord(value.authentication) && isRecord(value.authentication.fields)))
    return 'its "authentication" has no "fields"'
  return undefined
}

/** The nearest package.json above a file: the package's name and version, for the catalog. */
function packageInfo(file: string): { readonly name: string; readonly version: string } {
  let folder = dirname(file)
  for (;;) {
    const candidate = join(folder, 'package.json')
    if (existsSync(candidate)) {
      try {
        const json = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: unknown; version?: unknown }
        if (typeof json.name === 'string')
          return { name: json.name, version: typeof json.version === 'string' ? json.version : '0.0.0' }
      } catch {
        // Not readable as JSON: keep looking further up.
      }
    }
    const parent = dirname(folder)
    if (parent === folder) return { name: file, version: '0.0.0' }
    folder = parent
  }
}

/** The actions-core the package itself resolves (its own copy, or the runtime's when it resolves the same file). */
function kitOf(file: string): ActionsCoreKit {
  let found: string
  try {
    found = createRequire(file).resolve('@segment/actions-core')
  } catch {
    // The package does not depend on actions-core itself (a plain definition object): it runs with the runtime's.
    return OWN_ACTIONS_CORE
  }
  if (found === OWN_FILE) return OWN_ACTIONS_CORE
  let module: Partial<typeof ownActionsCore>
  try {
    module = createRequire(file)('@segment/actions-core') as Partial<typeof ownActionsCore>
  } catch (error) {
    throw new PackageLoadError(
      `the @segment/actions-core it resolves (${found}) does not load: ${(error as Error).message.split('\n')[0]}`
    )
  }
  if (typeof module.Destination !== 'function' || typeof module.createRequestClient !== 'function')
    throw new PackageLoadError(
      `the @segment/actions-core it resolves (${found}) has no Destination or createRequestClient`
    )
  return { Destination: module.Destination, createRequestClient: module.createRequestClient, file: found, own: false }
}

export interface LoadedPackage {
  /** The registry entry: its slug is the package as the configuration names it (a path made absolute). */
  readonly entry: IntegrationEntry
  readonly definition: RuntimeDestinationDefinition
  readonly kit: ActionsCoreKit
  /** The file the definition was loaded from. */
  readonly file: string
}

/**
 * Loads a destination definition from an npm package (resolved from `baseDir`, the configuration's folder, then from
 * the runtime's own) or a path, and one of its exports (`default`: the default export, or `module.exports` itself).
 * CommonJS packages load on every supported Node.js; ES modules where Node.js can `require` them (20.19+, 22.12+).
 */
export function loadPackage(spec: string, exportName: string, baseDir: string): LoadedPackage {
  const target = isPathSpec(spec) ? resolve(baseDir, spec) : spec
  let file: string
  try {
    file = createRequire(join(baseDir, 'open-actions.config.js')).resolve(target)
  } catch {
    try {
      file = runtimeRequire.resolve(target)
    } catch (error) {
      throw new PackageLoadError(
        `cannot find package "${spec}"${isPathSpec(spec) ? ` (${target})` : ` from ${baseDir}`}: ${(error as Error).message.split('\n')[0]}`
      )
    }
  }
  let module: unknown
  try {
    module = runtimeRequire(file) as unknown
  } catch (error) {
    const code = (error as { code?: unknown }).code
    throw new PackageLoadError(
      code === 'ERR_REQUIRE_ESM'
        ? `"${spec}" is an ES module: a Node.js that can require ES modules loads it (20.19+ or 22.12+; this is ${process.version})`
        : `loading "${spec}" failed: ${(error as Error).message.split('\n')[0]}`
    )
  }
  const exports = isRecord(module) || typeof module === 'function' ? (module as Record<string, unknown>) : {}
  const value = exportName === 'default' ? (exports.default ?? module) : exports[exportName]
  if (value === undefined)
    throw new PackageLoadError(
      `"${spec}" has no export "${exportName}" (its exports: ${Object.keys(exports).join(', ') || 'none'})`
    )
  const problem = notADestination(value)
  if (problem)
    throw new PackageLoadError(
      `the export "${exportName}" of "${spec}" is not an actions-core destination definition: ${problem}`
    )
  const definition = value as RuntimeDestinationDefinition
  const kit = kitOf(file)
  kits.set(definition, kit)
  const info = packageInfo(file)
  return {
    entry: {
      slug: isPathSpec(spec) ? target : spec,
      packageName: info.name,
      version: info.version,
      destinations: { [exportName]: definition },
      sources: {}
    },
    definition,
    kit,
    file
  }
}
