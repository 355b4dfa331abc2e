import type { DestinationDefinition, JSONObject } from '@segment/actions-core'

export interface Subscription {
  readonly partnerAction: string
  readonly subscribe: string
  readonly mapping: JSONObject
  readonly name?: string
}

/**
 * The subscriptions a user gets by "turning on the presets": one per automatic preset, with the preset's
 * mapping. `specificEvent` presets (lifecycle hooks) are not subscriptions and are left out.
 */
export function presetSubscriptions(definition: Pick<DestinationDefinition<never>, 'presets'>): Subscription[] {
  const subscriptions: Subscription[] = []
  for (const preset of definition.presets ?? []) {
    if (preset.type !== 'automatic') continue
    subscriptions.push({
      name: preset.name,
      partnerAction: preset.partnerAction,
      subscribe: preset.subscribe,
      mapping: preset.mapping ?? {}
    })
  }
  return subscriptions
}
