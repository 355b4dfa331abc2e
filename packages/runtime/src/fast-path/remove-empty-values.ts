/** The part of an action's JSON schema that empty-value removal reads. */
export interface EmptyValueSchema {
  readonly type?: string | readonly string[]
  readonly enum?: readonly unknown[]
  readonly items?: EmptyValueSchema
  readonly properties?: Readonly<Record<string, EmptyValueSchema>>
}

/**
 * actions-core's `removeEmptyValues` (remove-empty-values.js): nulls and empty strings the schema does not allow.
 * Same result, built differently: actions-core copies each object and then deletes the keys it drops, and a deleted
 * key turns a V8 object into a slow dictionary for everything that reads it afterwards (the schema validation, the
 * action's `perform`, `JSON.stringify`). Here the copy is built from the kept keys only, in the same order. Array
 * items are kept as they are, as actions-core keeps them (it filters on the cleaned item but keeps the original).
 */
export function removeEmptyValues(value: unknown, schema: EmptyValueSchema = {}, isRoot = false): unknown {
  if (!schema.type && !schema.enum) return value
  if (Array.isArray(value)) {
    if (!schema.items) return value
    const items = schema.items
    return value.filter((item) => removeEmptyValues(item, items) !== undefined)
  }
  if (Object.prototype.toString.call(value) === '[object Object]') {
    const properties = schema.properties
    if (!properties) return value
    const source = value as Record<string, unknown>
    const copy: Record<string, unknown> = {}
    for (const key of Object.keys(source)) {
      // An own `__proto__` key behaves differently under actions-core's assignments: take its exact route.
      if (key === '__proto__') return removeEmptyValuesByDeleting(source, properties, isRoot)
      const kept = removeEmptyValues(source[key], properties[key])
      if (kept === undefined || (isRoot && kept === '')) continue
      copy[key] = kept
    }
    return copy
  }
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type]
  if (value === null && !types.includes('null')) return undefined
  if (value === '' && !types.includes('string')) return undefined
  return value
}

/** actions-core's object step as it is written (copy, assign, delete), for objects with an own `__proto__` key. */
function removeEmptyValuesByDeleting(
  source: Record<string, unknown>,
  properties: Readonly<Record<string, EmptyValueSchema>>,
  isRoot: boolean
): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...source }
  for (const key of Object.keys(copy)) {
    copy[key] = removeEmptyValues(copy[key], properties[key])
    if (copy[key] === undefined) Reflect.deleteProperty(copy, key)
    if (copy[key] === '' && isRoot) Reflect.deleteProperty(copy, key)
  }
  return copy
}
