import type { DestinationDefinition, InputField, JSONObject, Preset } from '@segment/actions-core'
import { defaultValues } from '@segment/actions-core'

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

/**
 * One automatic preset per action that has a default subscription: that subscription and the fields' default
 * mappings, named after the action. Presets and the catalog's default subscriptions then cannot disagree. An action
 * without a default subscription (one to add by hand, say a beta feature) gets no preset.
 */
export function presetsFromActions(
  actions: Readonly<
    Record<
      string,
      { readonly title: string; readonly defaultSubscription?: string; readonly fields: Record<string, InputField> }
    >
  >
): Preset[] {
  return Object.entries(actions).flatMap(([key, action]) =>
    action.defaultSubscription
      ? [
          {
            name: action.title,
            subscribe: action.defaultSubscription,
            partnerAction: key,
            mapping: defaultValues(action.fields),
            type: 'automatic' as const
          }
        ]
      : []
  )
}
