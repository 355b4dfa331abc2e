import type { GlobalSetting, InputField } from '@segment/actions-core'
import type { Registry } from './registry'

function describeField(key: string, field: InputField | GlobalSetting) {
  return {
    key,
    label: field.label,
    description: field.description,
    type: field.type,
    required: field.required === true,
    ...(field.multiple ? { multiple: true } : {}),
    ...(field.choices ? { choices: field.choices } : {}),
    ...(field.default !== undefined ? { default: field.default } : {})
  }
}

/** The integrations, their settings, actions, fields and presets, read from the definitions themselves. */
export function describeCatalog(registry: Registry) {
  return {
    integrations: [...registry.values()].map((entry) => ({
      slug: entry.slug,
      packageName: entry.packageName,
      version: entry.version,
      destinations: Object.entries(entry.destinations).map(([key, definition]) => ({
        key,
        name: definition.name,
        slug: definition.slug,
        description: definition.description,
        settings: Object.entries(definition.authentication?.fields ?? {}).map(([fieldKey, field]) =>
          describeField(fieldKey, field)
        ),
        actions: Object.entries(definition.actions).map(([actionKey, action]) => ({
          key: actionKey,
          title: action.title,
          description: action.description,
          defaultSubscription: action.defaultSubscription,
          batching: action.performBatch !== undefined,
          fields: Object.entries(action.fields).map(([fieldKey, field]) => describeField(fieldKey, field))
        })),
        presets: (definition.presets ?? []).flatMap((preset) =>
          preset.type === 'automatic'
            ? [
                {
                  name: preset.name,
                  partnerAction: preset.partnerAction,
                  subscribe: preset.subscribe,
                  mapping: preset.mapping ?? {}
                }
              ]
            : []
        )
      })),
      sources: Object.entries(entry.sources).map(([key, source]) => ({
        key,
        slug: source.slug,
        name: source.name,
        description: source.description
      }))
    }))
  }
}
