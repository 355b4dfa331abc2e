import { describe, expect, it } from '@jest/globals'
import { PayloadValidationError } from '@segment/actions-core'
import { readEngageComputation } from './engage'

describe('readEngageComputation', () => {
  it('reads audience membership from identify traits', () => {
    expect(
      readEngageComputation({
        computation_key: 'vip',
        computation_class: 'audience',
        traits_or_properties: { vip: true },
        event_type: 'identify'
      })
    ).toStrictEqual({
      kind: 'audience',
      key: 'vip',
      member: true,
      via: 'identify'
    })
    expect(
      readEngageComputation({
        computation_key: 'vip',
        computation_class: 'audience',
        traits_or_properties: { vip: false },
        event_type: 'identify'
      })
    ).toMatchObject({ member: false })
  })

  it('reads Audience Entered / Exited tracks', () => {
    const base = {
      computation_key: 'vip',
      computation_class: 'audience',
      traits_or_properties: { audience_key: 'vip', vip: true },
      event_type: 'track'
    }
    expect(readEngageComputation({ ...base, event_name: 'Audience Entered' })).toStrictEqual({
      kind: 'audience',
      key: 'vip',
      member: true,
      via: 'track'
    })
    expect(readEngageComputation({ ...base, event_name: 'Audience Exited' })).toStrictEqual({
      kind: 'audience',
      key: 'vip',
      member: false,
      via: 'track'
    })
  })

  it('reads computed traits (class computed_trait) from identify and Trait Computed', () => {
    expect(
      readEngageComputation({
        computation_key: 'ltv',
        computation_class: 'computed_trait',
        traits_or_properties: { ltv: 420 },
        event_type: 'identify'
      })
    ).toStrictEqual({
      kind: 'computed_trait',
      key: 'ltv',
      value: 420,
      via: 'identify'
    })
    expect(
      readEngageComputation({
        computation_key: 'ltv',
        computation_class: 'computed_trait',
        traits_or_properties: { trait_key: 'ltv', ltv: 'gold' },
        event_type: 'track',
        event_name: 'Trait Computed'
      })
    ).toStrictEqual({ kind: 'computed_trait', key: 'ltv', value: 'gold', via: 'track' })
  })

  it('rejects an unknown class, a non-boolean membership and a missing value with the field named', () => {
    expect(() =>
      readEngageComputation({
        computation_key: 'x',
        computation_class: 'trait',
        traits_or_properties: {},
        event_type: 'identify'
      })
    ).toThrow(
      new PayloadValidationError(
        'context.personas.computation_class must be one of audience, computed_trait, journey_step; got "trait"'
      )
    )
    expect(() =>
      readEngageComputation({
        computation_key: 'vip',
        computation_class: 'audience',
        traits_or_properties: { vip: 'yes' },
        event_type: 'identify'
      })
    ).toThrow('traits.vip must be true or false for an Engage audience; got "yes"')
    expect(() =>
      readEngageComputation({
        computation_key: 'ltv',
        computation_class: 'computed_trait',
        traits_or_properties: {},
        event_type: 'track'
      })
    ).toThrow('properties.ltv must hold the value of the computed trait "ltv"')
    expect(() =>
      readEngageComputation({
        computation_key: 'ltv',
        computation_class: 'computed_trait',
        traits_or_properties: {},
        event_type: 'page'
      })
    ).toThrow(PayloadValidationError)
  })
})
