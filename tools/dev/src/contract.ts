import type { AnyDestination, AnySource } from './workspace'

/**
 * A package's public contract: what a configuration or a runtime depends on. Removing or retyping any of it
 * breaks someone's existing setup, so it needs a major version.
 */
export interface DestinationContract {
  readonly name: string
  readonly slug: string | undefined
  readonly settings: Record<
    string,
    { readonly type: string; readonly required: boolean; readonly choices?: readonly string[] }
  >
  readonly actions: Record<
    string,
    {
      readonly fields: Record<string, { readonly type: string; readonly required: boolean; readonly multiple: boolean }>
    }
  >
}

export interface PackageContract {
  readonly package: string
  readonly destinations: Record<string, DestinationContract>
  readonly sources: Record<string, { readonly slug: string }>
}

function choiceValues(choices: unknown): string[] | undefined {
  if (!Array.isArray(choices)) return undefined
  return choices.map((choice: unknown) =>
    typeof choice === 'string' ? choice : String((choice as { value?: unknown }).value)
  )
}

export function contractOf(
  packageName: string,
  destinations: Record<string, AnyDestination>,
  sources: Record<string, AnySource>
): PackageContract {
  return {
    package: packageName,
    destinations: Object.fromEntries(
      Object.entries(destinations).map(([key, definition]) => [
        key,
        {
          name: definition.name,
          slug: definition.slug,
          settings: Object.fromEntries(
            Object.entries(definition.authentication?.fields ?? {}).map(([settingKey, field]) => {
              const choices = choiceValues(field.choices)
              return [
                settingKey,
                { type: field.type, required: field.required === true, ...(choices ? { choices } : {}) }
              ]
            })
          ),
          actions: Object.fromEntries(
            Object.entries(definition.actions).map(([actionKey, action]) => [
              actionKey,
              {
                fields: Object.fromEntries(
                  Object.entries(action.fields).map(([fieldKey, field]) => [
                    fieldKey,
                    { type: field.type, required: field.required === true, multiple: field.multiple === true }
                  ])
                )
              }
            ])
          )
        }
      ])
    ),
    sources: Object.fromEntries(Object.entries(sources).map(([key, source]) => [key, { slug: source.slug }]))
  }
}

/** Every way `current` breaks users of `released`; additions are never breaking. */
export function breakingChanges(released: PackageContract, current: PackageContract): string[] {
  const changes: string[] = []
  for (const [key, before] of Object.entries(released.destinations)) {
    const after = current.destinations[key]
    if (!after) {
      changes.push(`destination export "${key}" was removed`)
      continue
    }
    if (after.slug !== before.slug) changes.push(`${key}: slug changed from ${before.slug} to ${after.slug}`)
    for (const [settingKey, setting] of Object.entries(before.settings)) {
      const now = after.settings[settingKey]
      if (!now) changes.push(`${key}: setting "${settingKey}" was removed`)
      else {
        if (now.type !== setting.type)
          changes.push(`${key}: setting "${settingKey}" changed type from ${setting.type} to ${now.type}`)
        const removedChoices = (setting.choices ?? []).filter(
          (choice) => now.choices !== undefined && !now.choices.includes(choice)
        )
        if (removedChoices.length > 0)
          changes.push(`${key}: setting "${settingKey}" lost choices ${removedChoices.join(', ')}`)
      }
    }
    for (const [settingKey, setting] of Object.entries(after.settings)) {
      if (setting.required && !before.settings[settingKey]?.required)
        changes.push(`${key}: setting "${settingKey}" is now required`)
    }
    for (const [actionKey, action] of Object.entries(before.actions)) {
      const now = after.actions[actionKey]
      if (!now) {
        changes.push(`${key}: action "${actionKey}" was removed`)
        continue
      }
      for (const [fieldKey, field] of Object.entries(action.fields)) {
        const nowField = now.fields[fieldKey]
        if (!nowField) changes.push(`${key}.${actionKey}: field "${fieldKey}" was removed`)
        else {
          if (nowField.type !== field.type)
            changes.push(`${key}.${actionKey}: field "${fieldKey}" changed type from ${field.type} to ${nowField.type}`)
          if (nowField.multiple !== field.multiple)
            changes.push(`${key}.${actionKey}: field "${fieldKey}" changed between one value and many`)
        }
      }
      for (const [fieldKey, field] of Object.entries(now.fields)) {
        if (field.required && !action.fields[fieldKey]?.required)
          changes.push(`${key}.${actionKey}: field "${fieldKey}" is now required`)
      }
    }
  }
  for (const [key, source] of Object.entries(released.sources)) {
    const now = current.sources[key]
    if (!now) changes.push(`source export "${key}" was removed`)
    else if (now.slug !== source.slug) changes.push(`source ${key}: slug changed from ${source.slug} to ${now.slug}`)
  }
  return changes
}
