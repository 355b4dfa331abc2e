import { describe, expect, it } from '@jest/globals'
import { transform, transformBatch } from '@segment/actions-core/mapping-kit'
import { fuzzSeed, jsonValueArbitrary, segmentEventArbitrary } from '@open-actions/testing/arbitraries'
import fc from 'fast-check'
import { compileMapping, UnsupportedMapping } from './compile-mapping'

/*
 * The compiled mapping against mapping-kit's own `transform` / `transformBatch`: random mappings built from every
 * directive the compiler takes (nested in each other, with awkward paths, templates and options), over the fuzz events.
 * Both must give the same JSON, or throw the same message; a mapping the compiler declines (one mapping-kit's
 * validation refuses, or one using what it leaves to actions-core) runs through actions-core, so declining is safe — and
 * rare: most random mappings compile.
 */

const paths = fc.oneof(
  fc.constantFrom(
    '$.userId',
    '$.properties',
    '$.properties.products',
    '$.properties.products[0].price',
    '$.traits.email',
    '$.context.traits',
    '$.event',
    '$.type',
    '$.properties.a.b',
    '$.',
    '$.properties["order_id"]',
    'properties.total',
    '$.timestamp',
    '$.__proto__',
    '$.traits.address'
  ),
  fc.string({ maxLength: 12 }).map((text) => `$.${text}`)
)

const templates = fc.oneof(
  fc.constantFrom(
    'Hello {{traits.name}}',
    '{{userId}}-{{event}}',
    '{{ properties.total }}',
    '{{{properties.html}}}',
    '{{}} {{.}} {{ }}',
    'no placeholders',
    '{{properties.products}}',
    '{{a}}}'
  ),
  fc.string({ maxLength: 20 })
)

const leaf: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: paths.map((path) => ({ '@path': path })) },
  templates.map((template) => ({ '@template': template })),
  jsonValueArbitrary
)

const mappingValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc
      .record({ exists: tie('value'), then: tie('value'), else: tie('value') }, { requiredKeys: ['exists'] })
      .map((options) => ({ '@if': options })),
    fc
      .record({ blank: tie('value'), then: tie('value'), else: tie('value') }, { requiredKeys: ['blank'] })
      .map((options) => ({ '@if': options })),
    fc
      .record({ operator: fc.constantFrom('lower', 'upper'), value: tie('value') })
      .map((options) => ({ '@case': options })),
    fc
      .record(
        {
          value: tie('value'),
          pattern: fc.string({ minLength: 1, maxLength: 4 }),
          replacement: fc.string({ maxLength: 4 }),
          pattern2: fc.string({ minLength: 1, maxLength: 4 }),
          replacement2: fc.string({ maxLength: 4 }),
          ignorecase: fc.boolean(),
          global: fc.boolean()
        },
        { requiredKeys: ['value', 'pattern'] }
      )
      .map((options) => ({ '@replace': options })),
    fc.tuple(paths, fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 3 })).map((tuple) => ({
      '@arrayPath': tuple
    })),
    tie('value').map((value) => ({ '@literal': value })),
    fc
      .record({ separator: fc.constantFrom('.', '_', '-'), value: tie('value'), omitArrays: fc.boolean() })
      .map((options) => ({ '@flatten': options })),
    fc
      .record({ mode: fc.constantFrom('encode', 'decode'), value: tie('value') })
      .map((options) => ({ '@json': options })),
    fc
      .record({ direction: fc.constantFrom('left', 'right'), objects: fc.array(tie('value'), { maxLength: 3 }) })
      .map((options) => ({ '@merge': options })),
    fc
      .record({
        apply: fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), tie('value'), { minKeys: 1, maxKeys: 3 }),
        mapping: tie('value')
      })
      .map((options) => ({ '@transform': options })),
    tie('value').map((value) => ({ '@excludeWhenNull': value })),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('value'), { maxKeys: 4 })
  )
})).value

const mappings = fc.dictionary(fc.string({ maxLength: 10 }), mappingValue, { maxKeys: 6 })

function outcome(run: () => unknown): string {
  try {
    return `ok ${JSON.stringify(run())}`
  } catch (error) {
    return `error ${(error as Error).message}`
  }
}

describe('a compiled mapping gives what mapping-kit gives', () => {
  it('for random mappings of every directive over the fuzz events, one at a time and as a batch', () => {
    let compiled = 0
    let declined = 0
    fc.assert(
      fc.property(mappings, fc.array(segmentEventArbitrary, { minLength: 1, maxLength: 3 }), (mapping, events) => {
        const expected = events.map((event) =>
          outcome(() => transform(structuredClone(mapping) as never, event as never))
        )
        let run: ReturnType<typeof compileMapping>
        try {
          run = compileMapping(structuredClone(mapping))
        } catch (error) {
          // Declining is always safe (the action runs through actions-core); it must say why, by type.
          expect(error).toBeInstanceOf(UnsupportedMapping)
          declined += 1
          return
        }
        compiled += 1
        expect(events.map((event) => outcome(() => run(event)))).toStrictEqual(expected)
        expect(outcome(() => run.many(events))).toBe(
          outcome(() => transformBatch(structuredClone(mapping) as never, events as never))
        )
      }),
      { seed: fuzzSeed(), numRuns: 3000 }
    )
    // Most random mappings are valid: the comparison is not vacuous.
    expect(compiled).toBeGreaterThan(declined)
  })

  it('leaves @liquid and the root-mapping key to actions-core, by name', () => {
    expect(() => compileMapping({ name: { '@liquid': '{{ traits.name }}' } })).toThrow(
      new UnsupportedMapping('the mapping uses the @liquid directive')
    )
    expect(() => compileMapping({ __segment_internal_directive: { '@path': '$.traits' } })).toThrow(UnsupportedMapping)
  })

  it('declines a mapping actions-core refuses, with its reason', () => {
    expect(() => compileMapping({ email: { '@path': 42 } })).toThrow(
      new UnsupportedMapping(
        'actions-core refuses the mapping: /email/@path should be a string or a mapping directive but it is a number.'
      )
    )
  })

  it('copies what it takes from the event: the payload shares nothing with it', () => {
    const event = { type: 'track', properties: { cart: { id: 'c-1' } } }
    const payload = compileMapping({ cart: { '@path': '$.properties.cart' } })(event)
    expect(payload).toStrictEqual({ cart: { id: 'c-1' } })
    expect(payload.cart).not.toBe(event.properties.cart)
  })
})
