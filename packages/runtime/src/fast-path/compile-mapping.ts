import { isObject, realTypeOf, removeUndefined } from '@segment/actions-core'
import { flattenObject } from '@segment/actions-core/mapping-kit/flatten'
import { isDirective } from '@segment/actions-core/mapping-kit/is-directive'
import { render } from '@segment/actions-core/mapping-kit/placeholders'
import validateMapping from '@segment/actions-core/mapping-kit/validate'

/*
 * actions-core's mapping-kit (`transform`, 3.170.0: mapping-kit/index.js) compiled: the mapping is validated and read
 * once, and each event runs a tree of closures instead of walking and re-validating the mapping. What an event sees is
 * what `transform` gives it — the same values, the same copies (the result goes through actions-core's own
 * `removeUndefined`, so nothing of the event is shared with the payload), and for a mapping whose directives only fail
 * on some events, the same `Error` with the same message. A mapping this compiler does not take (`@liquid`, an unknown
 * directive, the root-mapping key, a directive that fails whatever the event) raises `UnsupportedMapping`, and its
 * action runs through actions-core instead. The differential fuzz tests hold the two to the same output.
 */

/** A mapping the compiled path does not run: the action falls back to actions-core, with this message as the reason. */
export class UnsupportedMapping extends Error {
  override readonly name = 'UnsupportedMapping'
}

type Resolve = (payload: unknown) => unknown

/** mapping-kit's validation error, without the stack trace its message carries. */
function firstLine(error: unknown): string {
  const message = String((error as Error)?.message ?? error)
  return (
    message
      .split('\n')
      .map((line) => line.trim())
      .find((line) => line !== '')
      ?.replace(/^ValidationError: /, '') ?? message
  )
}

/** A compiled mapping: `transform` for one event, and `transformBatch` (`many`) for a batch. */
export type CompiledMapping = ((data: unknown) => Record<string, unknown>) & {
  readonly many: (data: readonly unknown[]) => Record<string, unknown>[]
}

/** The key actions-core reads a root directive from (its mapping is rewritten at run time): not compiled. */
const ROOT_MAPPING_FIELD_KEY = '__segment_internal_directive'

/** mapping-kit's `get(payload, path)`, with the path split once instead of on every call. */
function compileGet(path: string): Resolve {
  if (path === '' || path === '.') return (payload) => payload
  const keys = splitPath(path)
  if (keys.length === 1) {
    const [key] = keys as [string]
    return (payload) => payload && (payload as Record<string, unknown>)[key]
  }
  return (payload) => {
    let value = payload
    for (const key of keys) value = value && (value as Record<string, unknown>)[key]
    return value
  }
}

/** `@path` and `@arrayPath`'s path: `get(payload, path.replace('$.', ''))`. */
function compilePath(path: string): Resolve {
  return compileGet(path.replace('$.', ''))
}

/** mapping-kit's `get` path syntax (`a.b`, `a[0]`, `a["b"]`), split as `get` splits it. */
function splitPath(path: string): string[] {
  return path
    .split(/\[(?="|'|\d)|\.|(?<="|'|\d)]+/g)
    .filter((part) => part)
    .map((part) => part.replace(/'|"/g, ''))
}

/** `@template` without triple braces: the template cut once into text and paths (String.replace scans it once). */
function compileTemplate(template: string): Resolve {
  if (template.includes('{{{')) return (payload) => render(template, payload)
  const parts: (string | Resolve)[] = []
  let last = 0
  for (const match of template.matchAll(/\{\{([^}]+)\}\}/g)) {
    parts.push(template.slice(last, match.index))
    const path = (match[1] ?? '').trim()
    parts.push(compileGet(path))
    last = match.index + match[0].length
  }
  parts.push(template.slice(last))
  const text = parts.filter((part): part is string => typeof part === 'string')
  if (parts.length === 1) return () => text[0]
  return (payload) => {
    let out = ''
    for (const part of parts) out += typeof part === 'string' ? part : String(part(payload) ?? '')
    return out
  }
}

/** A directive that fails whenever it is evaluated (and only then: it may sit in a branch never taken). */
function failing(message: string): Resolve {
  return () => {
    throw new Error(message)
  }
}

/** A directive whose argument must resolve to a string (`@path`, `@template`), as `registerStringDirective` checks. */
function stringDirective(name: string, value: unknown, compiled: (text: string) => Resolve): Resolve {
  if (typeof value === 'string') return compiled(value)
  const argument = compileValue(value)
  return (payload) => {
    const text = argument(payload)
    if (typeof text !== 'string') throw new Error(`${name}: expected string, got ${realTypeOf(text)}`)
    return compiled(text)(payload)
  }
}

function cleanNulls(value: unknown): unknown {
  if (!isObject(value)) return value
  const cleaned: Record<string, unknown> = Object.assign({}, value)
  for (const key of Object.keys(value)) {
    const entry = value[key]
    if (entry === null) cleaned[key] = undefined
    else if (isObject(entry)) cleaned[key] = cleanNulls(entry)
  }
  return cleaned
}

const MAX_PATTERN_LENGTH = 10
const MAX_REPLACEMENT_LENGTH = 10

/** mapping-kit's `performReplace`, its expression built once. */
function replacer(pattern: string, replacement: string, flags: string): (value: string) => string {
  if (pattern.length > MAX_PATTERN_LENGTH)
    return () => {
      throw new Error(`@replace requires a "pattern" less than ${MAX_PATTERN_LENGTH} characters`)
    }
  if (replacement.length > MAX_REPLACEMENT_LENGTH)
    return () => {
      throw new Error(`@replace requires a "replacement" less than ${MAX_REPLACEMENT_LENGTH} characters`)
    }
  const expression = new RegExp(pattern.replace(/[-[\]{}()*+?.,\\^$|#\s]/g, '\\$&'), flags)
  return (value) => value.replace(expression, replacement)
}

/** `value != ''` as mapping-kit's `@if` `blank` writes it: loose on purpose (0, false and [] are blank too). */
function looseNotEmpty(value: unknown): boolean {
  // mapping-kit's own loose comparison, kept so `blank` means what it means there.
  return value != ''
}

/*
 * Each directive as mapping-kit runs it. Options that make a directive fail (a missing key, a wrong type) fail when the
 * directive is evaluated, with mapping-kit's message — not at compile time, since the directive may sit in a branch an
 * event never takes.
 */
const DIRECTIVES: Record<string, (value: unknown) => Resolve> = {
  '@if': (value) => {
    if (!isObject(value)) return failing('@if requires an object with an "exists" key')
    const options = value
    if (!options.exists && !options.blank) return failing('@if requires an "exists" key or a "blank" key')
    const then = options.then === undefined ? undefined : compileValue(options.then)
    const otherwise = options.else ? compileValue(options.else) : undefined
    let condition: (payload: unknown) => boolean
    if (options.exists !== undefined) {
      const exists = compileValue(options.exists)
      condition = (payload) => {
        const resolved = exists(payload)
        return resolved !== undefined && resolved !== null
      }
    } else {
      const blank = compileValue(options.blank)
      condition = (payload) => {
        const resolved = blank(payload)
        return resolved !== undefined && resolved !== null && looseNotEmpty(resolved)
      }
    }
    return (payload) => {
      const holds = condition(payload)
      if (holds && then) return then(payload)
      if (!holds && otherwise) return otherwise(payload)
      return undefined
    }
  },
  '@case': (value) => {
    if (!isObject(value)) return failing('@case requires an object with a "operator" key')
    const options = value
    if (!options.operator) return failing('@case requires a "operator" key')
    if (!options.value) return () => undefined
    const operator = options.operator
    const argument = compileValue(options.value)
    return (payload) => {
      const resolved = argument(payload)
      if (typeof resolved !== 'string') return resolved
      if (operator === 'lower') return resolved.toLowerCase()
      if (operator === 'upper') return resolved.toUpperCase()
      throw new Error('operator key should have a value of "lower" or "upper"')
    }
  },
  '@replace': (value) => {
    if (!isObject(value)) return failing('@replace requires an object with a "pattern" key')
    const options = value
    if (!options.pattern) return failing('@replace requires a "pattern" key')
    // mapping-kit writes these defaults into the mapping on first use; read here, the mapping is left as it is.
    const replacement = options.replacement ?? ''
    const replacement2 = options.pattern2 ? (options.replacement2 ?? '') : options.replacement2
    const ignorecase = options.ignorecase ?? false
    const global = options.global ?? true
    if (!options.value) return () => undefined
    const argument = compileValue(options.value)
    const valid =
      typeof options.pattern === 'string' &&
      typeof replacement === 'string' &&
      typeof ignorecase === 'boolean' &&
      typeof global === 'boolean'
    const flags = `${global === true ? 'g' : ''}${ignorecase === true ? 'i' : ''}`
    const first = valid ? replacer(options.pattern as string, replacement as string, flags) : undefined
    const second =
      options.pattern2 && typeof options.pattern2 === 'string' && typeof replacement2 === 'string'
        ? replacer(options.pattern2, replacement2, flags)
        : undefined
    return (payload) => {
      let resolved = argument(payload)
      if (typeof resolved === 'boolean' || typeof resolved === 'number') resolved = String(resolved)
      if (typeof resolved !== 'string' || !first) return ''
      const replaced = first(resolved)
      return second ? second(replaced) : replaced
    }
  },
  '@arrayPath': (value) => {
    if (!Array.isArray(value)) return failing(`@arrayPath expected array, got ${realTypeOf(value)}`)
    const [path, itemShape] = value as [unknown, unknown]
    const root = typeof path === 'string' ? compilePath(path) : compileValue(path)
    if (!isObject(itemShape) || Object.keys(itemShape).length === 0) return root
    const item = compileValue(itemShape)
    return (payload) => {
      const resolved = root(payload)
      if (Array.isArray(resolved)) return resolved.map((entry) => item(entry))
      if (isObject(resolved)) return [item(resolved)]
      return resolved
    }
  },
  '@path': (value) => stringDirective('@path', value, compilePath),
  '@template': (value) => stringDirective('@template', value, compileTemplate),
  '@literal': (value) => compileValue(value),
  '@flatten': (value) => {
    if (!isObject(value)) return failing('@flatten requires an object with a "separator" key')
    const options = value
    if (!options.separator) return failing('@flatten requires a "separator" key')
    const separator = compileValue(options.separator)
    const argument = compileValue(options.value)
    const omitArrays = Boolean(options.omitArrays)
    return (payload) => {
      const resolvedSeparator = separator(payload)
      if (typeof resolvedSeparator !== 'string') throw new Error('@flatten requires a string separator')
      return flattenObject(argument(payload) as never, '', resolvedSeparator, omitArrays)
    }
  },
  '@json': (value) => {
    if (!isObject(value)) return failing('@json requires an object with a "value" key')
    const options = value
    if (!options.mode) return failing('@json requires a "mode" key')
    if (!options.value) return failing('@json requires a "value" key')
    const argument = compileValue(options.value)
    if (options.mode === 'encode') return (payload) => JSON.stringify(argument(payload))
    if (options.mode === 'decode')
      return (payload) => {
        const resolved = argument(payload)
        if (typeof resolved !== 'string') return resolved
        try {
          return JSON.parse(resolved) as unknown
        } catch {
          return resolved
        }
      }
    return (payload) => {
      argument(payload)
      return undefined
    }
  },
  '@merge': (value) => {
    if (!isObject(value)) return failing('@merge requires an object with an "objects" key and a "direction" key')
    const options = value
    if (!options.direction) return failing('@merge requires a "direction" key')
    const direction = compileValue(options.direction)
    const listed = options.objects
    if (!listed || !Array.isArray(listed)) {
      const message = !listed ? '@merge requires a "objects" key' : `@merge: expected opts.array, got ${typeof listed}`
      return (payload) => {
        direction(payload)
        throw new Error(message)
      }
    }
    const objects = listed.map((entry) => compileValue(entry))
    return (payload) => {
      const left = direction(payload) === 'left'
      const resolved = objects.map((object) => object(payload))
      if (left) resolved.reverse()
      return Object.assign({}, ...resolved) as unknown
    }
  },
  '@transform': (value) => {
    if (!isObject(value)) return failing('@transform requires an object with an "apply" key and a "mapping" key')
    const options = value
    if (!options.mapping) return failing('@transform requires a "mapping" key')
    if (!options.apply) return failing('@transform requires a "apply" key')
    if (!isObject(options.apply)) return failing('@transform "apply" key should be an object')
    const apply = compileMappingOrFailure(options.apply)
    const mapping = compileValue(options.mapping)
    return (payload) => mapping(apply(payload))
  },
  '@excludeWhenNull': (value) => {
    const argument = compileValue(value)
    return (payload) => {
      const resolved = argument(payload)
      return resolved === null ? undefined : cleanNulls(resolved)
    }
  }
}

/** One value of a mapping: a literal, a directive, or an object or array of them (mapping-kit's `resolve`). */
function compileValue(mapping: unknown): Resolve {
  if (!isObject(mapping) && !Array.isArray(mapping)) return () => mapping
  if (isDirective(mapping)) {
    const name = Object.keys(mapping).find((key) => key.startsWith('@')) as string
    const compile = Object.prototype.hasOwnProperty.call(DIRECTIVES, name) ? DIRECTIVES[name] : undefined
    if (!compile) throw new UnsupportedMapping(`the mapping uses the ${name} directive`)
    return compile(mapping[name])
  }
  if (Array.isArray(mapping)) {
    const items = mapping.map((entry) => compileValue(entry))
    return (payload) => items.map((item) => item(payload))
  }
  const entries = Object.keys(mapping).map((key) => [key, compileValue(mapping[key])] as const)
  return (payload) => {
    const resolved: Record<string, unknown> = {}
    for (const [key, value] of entries) resolved[key] = value(payload)
    return resolved
  }
}

/**
 * `transform(mapping, data)` compiled: the returned function gives what `transform` gives for the same data (or throws
 * what it throws). Throws `UnsupportedMapping` for a mapping the compiler leaves to actions-core, and actions-core's
 * own validation error for a mapping `transform` would refuse on every event.
 */
export function compileMapping(mapping: Record<string, unknown>): CompiledMapping {
  if (Object.keys(mapping).includes(ROOT_MAPPING_FIELD_KEY))
    throw new UnsupportedMapping(`the mapping uses the root-mapping key ${ROOT_MAPPING_FIELD_KEY}`)
  try {
    validateMapping(mapping)
  } catch (error) {
    throw new UnsupportedMapping(`actions-core refuses the mapping: ${firstLine(error)}`)
  }
  const resolve = compileValue(mapping)
  const one = (data: unknown) => {
    const type = realTypeOf(data)
    if (type !== 'object') throw new Error(`data must be an object, got ${type}`)
    return removeUndefined(resolve(data)) as Record<string, unknown>
  }
  // `transformBatch`: the same mapping over each event (no per-event type check there), then `removeUndefined`.
  const many = (data: readonly unknown[]) =>
    removeUndefined(data.map((entry) => resolve(entry))) as unknown as Record<string, unknown>[]
  return Object.assign(one, { many })
}

/**
 * `@transform`'s inner `transform(apply, payload)`: compiled, or — when mapping-kit's validation refuses `apply` — the
 * same error, raised when the directive is evaluated, as mapping-kit raises it.
 */
function compileMappingOrFailure(apply: Record<string, unknown>): (data: unknown) => Record<string, unknown> {
  // mapping-kit validates `apply` each time the directive runs; its error text carries a stack trace, so a refused
  // `apply` leaves the whole mapping to actions-core rather than raising a message that could differ.
  return compileMapping(apply)
}
