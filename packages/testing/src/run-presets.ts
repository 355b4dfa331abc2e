import type { DestinationDefinition, JSONObject, Result, SegmentEvent, StateContext } from '@segment/actions-core'
import { Destination } from '@segment/actions-core'
import type { Subscription } from '@open-actions/core'
import { presetSubscriptions } from '@open-actions/core'

/**
 * Runs an event through `Destination.onEvent` with the definition's presets as subscriptions, exactly as an
 * actions runtime does (settings validation, FQL matching, mapping, field validation, perform).
 */
export function runPresets<Settings>(
  definition: DestinationDefinition<Settings>,
  event: SegmentEvent,
  settings: Settings,
  subscriptions: readonly Subscription[] = presetSubscriptions(definition),
  options: { readonly stateContext?: StateContext } = {}
): Promise<Result[]> {
  return new Destination(definition).onEvent(
    event,
    { ...(settings as JSONObject), subscriptions: subscriptions as unknown as JSONObject[] },
    options
  )
}

/**
 * A `StateContext` as a runtime keeps one per event: what an attempt sets with `setResponseContext` is what later
 * attempts of the same event read with `getRequestContext`. A fresh one stands for a different event.
 */
export function memoryStateContext(): StateContext & { readonly values: ReadonlyMap<string, string> } {
  const values = new Map<string, string>()
  return {
    values,
    getRequestContext: (key, callback) => {
      const value = values.get(key)
      callback?.(value)
      return value
    },
    setResponseContext: (key, value) => {
      values.set(key, value)
    }
  }
}

/** The batch form of `runPresets`, through `Destination.onBatch`. */
export function runPresetsBatch<Settings>(
  definition: DestinationDefinition<Settings>,
  events: SegmentEvent[],
  settings: Settings,
  subscriptions: readonly Subscription[] = presetSubscriptions(definition)
): Promise<Result[]> {
  return new Destination(definition).onBatch(events, {
    ...(settings as JSONObject),
    subscriptions: subscriptions as unknown as JSONObject[]
  })
}
