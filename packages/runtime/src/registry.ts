import type { DestinationDefinition, JSONObject } from '@segment/actions-core'
import type { SourceDefinition } from '@open-actions/core'

/** A destination definition as the runtime handles it: settings are JSON, validated by actions-core. */
export type RuntimeDestinationDefinition = DestinationDefinition<JSONObject>
export type RuntimeSourceDefinition = SourceDefinition<unknown, unknown>

/** One installed integration package, as the generated manifest lists it. */
export interface IntegrationEntry {
  /** The folder name under packages/integrations, used in configurations (`"integration": "insider"`). */
  readonly slug: string
  readonly packageName: string
  readonly version: string
  readonly destinations: Readonly<Record<string, RuntimeDestinationDefinition>>
  readonly sources: Readonly<Record<string, RuntimeSourceDefinition>>
}

export type Registry = ReadonlyMap<string, IntegrationEntry>

export function createRegistry(entries: readonly IntegrationEntry[]): Registry {
  return new Map(entries.map((entry) => [entry.slug, entry]))
}
