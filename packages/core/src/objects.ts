/**
 * A shallow copy without the keys whose value is `undefined` (and, with `dropEmptyStrings`, `""`), so optional
 * mapped fields are left out of a vendor body instead of being sent as `null` or blank.
 */
export function compact<Value extends object>(
  value: Value,
  options: { readonly dropEmptyStrings?: boolean } = {}
): Value {
  const keep = options.dropEmptyStrings
    ? (entry: unknown) => entry !== undefined && entry !== ''
    : (entry: unknown) => entry !== undefined
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => keep(entry))) as Value
}
