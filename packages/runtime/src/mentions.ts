/**
 * Whether a JSON-like value mentions one of `values` as a whole JSON string anywhere in it (a deleted user's ids in a
 * captured request or a rejected message, wherever a mapping put them).
 */
export function mentionsAny(value: unknown, values: readonly string[]): boolean {
  const text = JSON.stringify(value)
  return values.some((needle) => text.includes(JSON.stringify(needle)))
}
