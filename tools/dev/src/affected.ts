import { spawnSync } from 'node:child_process'
import { runTool, ToolUsageError, toolArguments } from './cli-args'

export const CHECKED_TASKS = ['build', 'typecheck', 'lint', 'test'] as const

/**
 * What a pull request runs: every task of the packages changed since `base` and of the packages that depend on them
 * (turbo's `...[base]`): a change to core checks every integration and the runtime; a change to one integration checks
 * it and the runtime only.
 */
export function affectedTurboArgs(base: string): string[] {
  if (!/^[\w./~^-]+$/.test(base)) throw new ToolUsageError('affected', `not a git revision: "${base}"`)
  return ['run', ...CHECKED_TASKS, '--continue', `--filter=...[${base}]`]
}

async function main(): Promise<void> {
  const args = toolArguments('affected', {}, process.argv.slice(2), [1, 1])
  const [base = ''] = args.positionals
  const result = spawnSync('turbo', affectedTurboArgs(base), { stdio: 'inherit', shell: false })
  if (result.error) throw result.error
  process.exitCode = result.status ?? 1
}

if (require.main === module) runTool(main)
