import { describe, expect, it } from '@jest/globals'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fieldsToJsonSchema } from '@segment/actions-core'
import { fuzzSeed, segmentEventArbitrary } from '@open-actions/testing/arbitraries'
import fc from 'fast-check'
import { registry } from '../start'
import { type EmptyValueSchema, removeEmptyValues } from './remove-empty-values'

/*
 * The fast path's empty-value removal against actions-core's own (remove-empty-values.js, which the package does not
 * export, loaded from its file): the same JSON, the same key order, the same array items, for every action's schema
 * of every integration and for random schemas, over values full of nulls, empty strings and awkward keys.
 */

const actionsCoreFile = join(
  dirname(createRequire(__filename).resolve('@segment/actions-core')),
  'remove-empty-values.js'
)
const actionsCore = createRequire(__filename)(actionsCoreFile) as {
  removeEmptyValues: (value: unknown, schema?: EmptyValueSchema, isRoot?: boolean) => unknown
}

/** Keys in order, nested: `toEqual` ignores key order and JSON text does not. */
const exactly = (value: unknown) => JSON.stringify(value)

function expectSame(value: unknown, schema: EmptyValueSchema, isRoot: boolean) {
  const ours = removeEmptyValues(value, schema, isRoot)
  const theirs = actionsCore.removeEmptyValues(value, schema, isRoot)
  expect(exactly(ours)).toBe(exactly(theirs))
  expect(ours).toEqual(theirs)
  if (typeof theirs === 'object' && theirs !== null)
    expect(Object.getPrototypeOf(ours)).toBe(Object.getPrototypeOf(theirs))
}

const emptyish = fc.constantFrom(null, '', 0, false, 'x', undefined)
const keys = fc.constantFrom('a', 'b', 'email', '0', '10', '__proto__', 'constructor', 'toString', '')

const valueArbitrary: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    emptyish,
    fc.array(tie('value'), { maxLength: 4 }),
    fc
      .array(fc.tuple(keys, tie('value')), { maxLength: 5 })
      // JSON.parse makes `__proto__` an own key, as an event parsed from a request body has it.
      .map((entries) => JSON.parse(JSON.stringify(Object.fromEntries(entries))) as unknown)
  )
})).value

const typeArbitrary = fc.oneof(
  fc.constantFrom(undefined, 'string', 'null', 'object', 'array', 'number', 'boolean'),
  fc.subarray(['string', 'null', 'object', 'number'], { minLength: 1 })
)

const schemaArbitrary: fc.Arbitrary<EmptyValueSchema> = fc.letrec<{ schema: EmptyValueSchema }>((tie) => ({
  schema: fc.record(
    {
      type: typeArbitrary,
      enum: fc.constantFrom(undefined, ['a', null]),
      items: tie('schema'),
      properties: fc.dictionary(keys, tie('schema'), { maxKeys: 4 })
    },
    { requiredKeys: [] }
  ) as fc.Arbitrary<EmptyValueSchema>
})).schema

describe('removeEmptyValues', () => {
  it('matches actions-core on every action schema of every integration, over fuzzed payload-shaped values', () => {
    const schemas = [...registry.values()].flatMap((entry) =>
      Object.values(entry.destinations).flatMap((definition) =>
        Object.values(definition.actions).map(
          (action) => fieldsToJsonSchema(action.fields) as unknown as EmptyValueSchema
        )
      )
    )
    expect(schemas.length).toBeGreaterThan(20)
    const payloads: fc.Arbitrary<unknown> = fc.oneof(
      segmentEventArbitrary.map((event): unknown => Object.assign({}, event.properties, event.traits, event.context)),
      valueArbitrary
    )
    fc.assert(
      fc.property(fc.constantFrom(...schemas), payloads, fc.boolean(), (schema, value, isRoot) => {
        expectSame(value, schema, isRoot)
      }),
      { numRuns: 3000, seed: fuzzSeed() }
    )
  })

  it('matches actions-core on random schemas and values', () => {
    fc.assert(
      fc.property(schemaArbitrary, valueArbitrary, fc.boolean(), (schema, value, isRoot) => {
        expectSame(value, schema, isRoot)
      }),
      { numRuns: 5000, seed: fuzzSeed() }
    )
  })

  it('drops what the schema does not allow and keeps the order of what it keeps', () => {
    const schema: EmptyValueSchema = {
      type: 'object',
      properties: {
        a: { type: 'string' },
        b: { type: 'number' },
        c: { type: ['number', 'null'] },
        d: { type: 'object', properties: { e: { type: 'number' }, f: { type: 'string' } } },
        g: { type: 'array', items: { type: 'number' } }
      }
    }
    const value = { b: null, a: '', c: null, d: { e: '', f: '' }, g: [1, null, '', 2], z: null }
    const kept = removeEmptyValues(value, schema, true)
    expect(exactly(kept)).toBe('{"c":null,"d":{"f":""},"g":[1,2],"z":null}')
    expect(kept).not.toBe(value)
    // The copy has fast properties (no key was ever deleted from it).
    expect(Object.keys(kept as object)).toEqual(['c', 'd', 'g', 'z'])
  })

  it('takes actions-core’s own route for an object with an own __proto__ key', () => {
    const value = JSON.parse('{"__proto__":{"polluted":true},"a":null,"b":"x"}') as unknown
    const schema: EmptyValueSchema = {
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'string' }, ['__proto__']: { type: 'object' } }
    }
    const kept = removeEmptyValues(value, schema, true) as Record<string, unknown>
    expect(Object.keys(kept)).toEqual(['__proto__', 'b'])
    expect(Object.getPrototypeOf(kept)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expectSame(value, schema, true)
  })
})
