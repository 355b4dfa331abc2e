import type { GlobalSetting } from '@segment/actions-core'
import { InvalidSettingError } from './errors'

export interface RegionInfo {
  /** Base URL without a trailing slash, e.g. `https://api-01.moengage.com`. */
  readonly url: string
  /** What a person sees in the settings dropdown. */
  readonly label: string
}

export interface RegionRegistry<Key extends string> {
  readonly keys: readonly Key[]
  readonly defaultRegion: Key
  /** The settings field for this registry: a string with one choice per region and the default. */
  readonly field: GlobalSetting
  /** The base URL of a region; an unknown region is an `InvalidSettingError` naming the valid ones. */
  resolve(region: unknown): string
  isRegion(region: unknown): region is Key
}

export interface RegionRegistryOptions<Key extends string> {
  /** The settings key the region is read from, used in errors (e.g. `region`). */
  readonly setting: string
  readonly label: string
  readonly description: string
  readonly regions: Readonly<Record<Key, RegionInfo>>
  readonly defaultRegion: NoInfer<Key>
}

/**
 * A typed registry of a vendor's regional hosts. Upstream destinations silently fall back to their first
 * region when a value is unknown, which sends EU data to the US (or loses it); here that is an error.
 */
export function defineRegions<const Key extends string>(options: RegionRegistryOptions<Key>): RegionRegistry<Key> {
  const keys = Object.keys(options.regions) as Key[]
  const isRegion = (region: unknown): region is Key =>
    typeof region === 'string' && Object.prototype.hasOwnProperty.call(options.regions, region)

  return {
    keys,
    defaultRegion: options.defaultRegion,
    field: {
      label: options.label,
      description: options.description,
      type: 'string',
      required: true,
      choices: keys.map((key) => ({ value: key, label: options.regions[key].label })),
      default: options.defaultRegion
    },
    isRegion,
    resolve(region: unknown): string {
      const key = region === undefined || region === '' ? options.defaultRegion : region
      if (!isRegion(key)) {
        throw new InvalidSettingError(
          options.setting,
          `unknown region ${JSON.stringify(region)}; valid regions are ${keys.join(', ')}`
        )
      }
      return options.regions[key].url
    }
  }
}
