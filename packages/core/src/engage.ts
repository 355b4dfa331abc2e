import type { engageFields } from './fields'
import type { InferPayload } from './types'
import type { JSONValue } from '@segment/actions-core'
import { PayloadValidationError } from '@segment/actions-core'

/*
 * How Engage delivers computations (segment.com/docs/engage/using-engage-data):
 * - identify: `traits: { <key>: true | false | value }`
 * - track: `Audience Entered` / `Audience Exited` with `properties: { audience_key, <key>: bool }`, and
 *   `Trait Computed` with `properties: { trait_key, <key>: value }`
 * - always: `context.personas.{ computation_class, computation_key, … }`.
 * Note: `computation_class` is `computed_trait` for computed traits; upstream Insider code compares it with
 * `'trait'`, which never matches.
 */
export type ComputationClass = 'audience' | 'computed_trait' | 'journey_step'

export const AUDIENCE_ENTERED = 'Audience Entered'
export const AUDIENCE_EXITED = 'Audience Exited'
export const TRAIT_COMPUTED = 'Trait Computed'

export type EngageComputation =
  | { readonly kind: 'audience'; readonly key: string; readonly member: boolean; readonly via: 'identify' | 'track' }
  | {
      readonly kind: 'computed_trait' | 'journey_step'
      readonly key: string
      readonly value: JSONValue
      readonly via: 'identify' | 'track'
    }

/**
 * What `engageFields` map, as an action receives it; the class is read as any string, since the reader also serves
 * callers outside actions-core (whose field validation would have refused another class) and checks it itself.
 */
export type EngageInput = Omit<InferPayload<typeof engageFields>, 'computation_class'> & {
  readonly computation_class: string
}

function isComputationClass(value: string): value is ComputationClass {
  return value === 'audience' || value === 'computed_trait' || value === 'journey_step'
}

/** Reads an Engage audience membership or computed value from the mapped Engage fields (`engageFields`). */
export function readEngageComputation(input: EngageInput): EngageComputation {
  const { computation_key: key, computation_class: computationClass, event_type: eventType } = input
  if (!isComputationClass(computationClass)) {
    throw new PayloadValidationError(
      `context.personas.computation_class must be one of audience, computed_trait, journey_step; got ${JSON.stringify(computationClass)}`
    )
  }
  if (eventType !== 'identify' && eventType !== 'track') {
    throw new PayloadValidationError(
      `Engage computations arrive as identify or track calls; got a ${JSON.stringify(eventType)} call`
    )
  }
  const where = eventType === 'identify' ? 'traits' : 'properties'
  const raw = input.traits_or_properties[key]

  if (computationClass === 'audience') {
    if (eventType === 'track' && input.event_name === AUDIENCE_ENTERED)
      return { kind: 'audience', key, member: true, via: 'track' }
    if (eventType === 'track' && input.event_name === AUDIENCE_EXITED)
      return { kind: 'audience', key, member: false, via: 'track' }
    if (typeof raw !== 'boolean') {
      throw new PayloadValidationError(
        `${where}.${key} must be true or false for an Engage audience; got ${JSON.stringify(raw) ?? 'nothing'}`
      )
    }
    return { kind: 'audience', key, member: raw, via: eventType }
  }
  if (raw === undefined) {
    throw new PayloadValidationError(`${where}.${key} must hold the value of the computed trait "${key}"`)
  }
  return { kind: computationClass, key, value: raw as JSONValue, via: eventType }
}
