import { parseArgs, type ParseArgsConfig } from 'node:util'

/** A mistake on a tool's command line: printed as one line, exit code 2. */
export class ToolUsageError extends Error {
  constructor(tool: string, message: string) {
    super(`${tool}: ${message}`)
    this.name = 'ToolUsageError'
  }
}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>

export interface ToolArguments {
  readonly positionals: readonly string[]
  /** A string option's value, if given. */
  string(name: string): string | undefined
  /** Whether a boolean option was given. */
  flag(name: string): boolean
  /** A whole-number option, at least `min`, or the fallback when absent; anything else is a usage error. */
  number(name: string, fallback: number, min?: number): number
}

/**
 * A tool's command line, strictly (`node:util` parseArgs): an option the tool does not take, an option without its
 * value or a wrong number of arguments is an error naming it, never silently ignored. `--name value` and
 * `--name=value` both work.
 */
export function toolArguments(
  tool: string,
  options: OptionsConfig,
  argv: readonly string[] = process.argv.slice(2),
  positionals: readonly [number, number] = [0, 0]
): ToolArguments {
  const accepted = Object.keys(options).map((name) => `--${name}`)
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true })
  } catch (error) {
    const found = /option '(--[^' ]+)/i.exec((error as Error).message)?.[1] ?? ''
    const code = (error as { code?: string }).code
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
      throw new ToolUsageError(tool, `unknown option ${found} (options: ${accepted.join(', ') || 'none'})`)
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new ToolUsageError(tool, `option ${found} needs a value`)
    throw new ToolUsageError(tool, (error as Error).message.split('\n')[0] ?? String(error))
  }
  const [least, most] = positionals
  const given = parsed.positionals
  if (given.length < least || given.length > most)
    throw new ToolUsageError(
      tool,
      `takes ${least === most ? least : `${least} to ${most}`} argument(s), got ${given.length}${given.length > 0 ? `: ${given.join(' ')}` : ''}`
    )
  const values = parsed.values
  return {
    positionals: given,
    string: (name) => {
      const value = values[name]
      return typeof value === 'string' ? value : undefined
    },
    flag: (name) => values[name] === true,
    number: (name, fallback, min = 1) => {
      const value = values[name]
      if (value === undefined) return fallback
      const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : Number.NaN
      if (!Number.isSafeInteger(number) || number < min)
        throw new ToolUsageError(tool, `--${name} must be a whole number of at least ${min} (got ${String(value)})`)
      return number
    }
  }
}

/** Runs a tool's main, turning usage errors into one line and exit code 2. */
export function runTool(main: () => Promise<void>): void {
  main().then(
    () => undefined,
    (error: unknown) => {
      if (error instanceof ToolUsageError) {
        process.stderr.write(`${error.message}\n`)
        process.exitCode = 2
        return
      }
      console.error(error)
      process.exitCode = 1
    }
  )
}
