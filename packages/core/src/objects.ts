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
    // An own `__proto__` key stays a plain key (assigning it would set the copy's prototype).
    if (key === '__proto__')
      Object.defineProperty(kept, key, { value: entry, enumerable: true, writable: true, configurable: true })
    else kept[key] = entry
  }
  return kept as Value
}
