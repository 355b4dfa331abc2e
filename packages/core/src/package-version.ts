import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * The `version` of the package whose `src/` or `dist/` folder is `directory` (pass `__dirname` from a file at
 * the top of either), read from its package.json so `VERSION` can never drift from what was published.
 */
export function readPackageVersion(directory: string): string {
  const packageJson: unknown = JSON.parse(readFileSync(join(directory, '..', 'package.json'), 'utf8'))
  const version = (packageJson as { version?: unknown }).version
  if (typeof version !== 'string') throw new Error(`No version in ${join(directory, '..', 'package.json')}`)
  return version
}
