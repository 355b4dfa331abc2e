/**
 * A shallow copy without the keys whose value is `undefined` (and, with `dropEmptyStrings`, `""`), so optional
 * mapped fields are left out of a vendor body instead of being sent as `null` or blank.
 */
export function compact<Value extends object>(
  value: Value,
  options: { readonly dropEmptyStrings?: boolean } = {}
): Value {
  const dropEmptyStrings = options.dropEmptyStrings === true
  const kept: Record<string, unknown> = {}
  // Own enumerable string keys in order, as Object.entries has them, without an array per entry.
  for (const key of Object.keys(value)) {
    const entry = (value as Record<string, unknown>)[key]
    if (entry === undefined || (dropEmptyStrings && entry === '')) continue
    setOwn(kept, key, entry)
  }
  return kept as Value
}

/**
 * `target[key] = value`, except that a `__proto__` key (an own key of any object parsed from JSON) becomes a plain own
 * key as well: assigning it would set the target's prototype instead, and the value would be lost.
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
  else target[key] = value
}
