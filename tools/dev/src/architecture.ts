import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { runTool, toolArguments } from './cli-args'
import { REPO_ROOT } from './workspace'

/** The map stays short enough to read in one sitting. */
export const MAX_LINES = 300

/** A repository path in backticks: a folder or file under one of the repository's top-level parts. */
const PATH = /^(?:packages|tools|\.ci)\/[A-Za-z0-9_./-]*$/
/** "`symbol` in `file`": the file must declare the symbol. */
const SYMBOL_IN_FILE = /`([A-Za-z_$][\w$]*)` in `([^`\s]+)`/g

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** Whether a source file declares `symbol`: a function, class, constant, type, interface, enum or method of that name. */
export function declares(source: string, symbol: string): boolean {
  const name = escapeRegExp(symbol)
  return [
    new RegExp(`\\b(?:function|class|const|let|var|interface|type|enum)\\s+${name}\\b`),
    new RegExp(`^\\s*(?:(?:public|private|protected|static|readonly|async|get)\\s+)*${name}\\s*[(<:]`, 'm'),
    new RegExp(`export\\s*\\{[^}]*\\b${name}\\b[^}]*\\}`)
  ].some((pattern) => pattern.test(source))
}

/** The first paragraph of a README: the text after its title, up to the first blank line. */
export function firstParagraph(readme: string): string {
  const lines = readme.split('\n')
  const start = lines.findIndex((line, index) => index > 0 && line.trim() !== '' && !line.startsWith('#'))
  if (start === -1) return ''
  const end = lines.findIndex((line, index) => index > start && line.trim() === '')
  return lines.slice(start, end === -1 ? undefined : end).join('\n')
}

/** Every package folder whose README must say where the package sits in the map. */
function packageFolders(root: string): string[] {
  const under = (folder: string) =>
    existsSync(join(root, folder))
      ? readdirSync(join(root, folder))
          .map((name) => `${folder}/${name}`)
          .filter((path) => existsSync(join(root, path, 'package.json')))
      : []
  return [...under('packages'), ...under('packages/integrations')].sort()
}

/**
 * What is wrong with ARCHITECTURE.md at `root`: a named file or folder that does not exist, a symbol its file does not
 * declare, a map over MAX_LINES lines, or a package README whose first paragraph does not point at the map.
 */
export function checkArchitecture(root: string = REPO_ROOT): string[] {
  const file = join(root, 'ARCHITECTURE.md')
  if (!existsSync(file)) return ['ARCHITECTURE.md is missing']
  const text = readFileSync(file, 'utf8')
  const problems: string[] = []
  const lines = text.split('\n').length
  if (lines > MAX_LINES) problems.push(`ARCHITECTURE.md has ${lines} lines; keep it under ${MAX_LINES}`)
  const paths = new Set(
    [...text.matchAll(/`([^`\s]+)`/g)].map((match) => match[1] ?? '').filter((token) => PATH.test(token))
  )
  for (const path of paths)
    if (!existsSync(join(root, path))) problems.push(`ARCHITECTURE.md names ${path}, which does not exist`)
  for (const [, symbol = '', path = ''] of text.matchAll(SYMBOL_IN_FILE)) {
    const target = join(root, path)
    if (!existsSync(target) || statSync(target).isDirectory()) continue
    if (!declares(readFileSync(target, 'utf8'), symbol))
      problems.push(`ARCHITECTURE.md names ${symbol} in ${path}, which does not declare it`)
  }
  for (const folder of packageFolders(root)) {
    const readme = join(root, folder, 'README.md')
    if (!existsSync(readme)) {
      problems.push(`${folder} has no README.md`)
      continue
    }
    if (!firstParagraph(readFileSync(readme, 'utf8')).includes('ARCHITECTURE.md'))
      problems.push(`${folder}/README.md: its first paragraph should say where the package sits in ARCHITECTURE.md`)
  }
  return problems
}

async function main(): Promise<void> {
  toolArguments('check-architecture', {})
  const problems = checkArchitecture()
  if (problems.length > 0) {
    console.error(
      `check-architecture found ${problems.length} problem(s):\n${problems.map((problem) => `  - ${problem}`).join('\n')}`
    )
    process.exitCode = 1
    return
  }
  console.log('check-architecture: every file and symbol ARCHITECTURE.md names exists, and every package points at it')
}

if (require.main === module) runTool(main)
