import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Installs npm packages with npm itself into a folder outside the workspace (under the system's temporary directory),
 * as a team installing a third-party package next to its configuration would: no workspace links, each package with
 * its own dependencies (its own copy of @segment/actions-core). Kept per `specs` and `overrides`, so a second run on
 * the same machine reuses it. Returns the folder (its `node_modules` holds the packages).
 */
export function npmInstall(specs: readonly string[], overrides: Readonly<Record<string, string>> = {}): string {
  const key = createHash('sha256')
    .update(JSON.stringify({ specs, overrides, node: process.versions.modules }))
    .digest('hex')
    .slice(0, 16)
  const root = join(tmpdir(), 'open-actions-test-packages')
  const folder = join(root, key)
  if (existsSync(join(folder, '.installed'))) return folder
  const staging = join(root, `${key}.${process.pid}.${Date.now()}`)
  mkdirSync(staging, { recursive: true })
  writeFileSync(join(staging, 'package.json'), JSON.stringify({ private: true, overrides }, null, 2))
  execFileSync(
    'npm',
    ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--omit=dev', '--no-package-lock', ...specs],
    { cwd: staging, stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 }
  )
  writeFileSync(join(staging, '.installed'), new Date().toISOString())
  if (existsSync(join(folder, '.installed'))) rmSync(staging, { recursive: true, force: true })
  else {
    rmSync(folder, { recursive: true, force: true })
    renameSync(staging, folder)
  }
  return folder
}

/** `npm pack`s a package folder into a tarball under the system's temporary directory; its content names the file. */
export function npmPack(packageFolder: string): string {
  const files = readdirSync(packageFolder)
    .filter((file) => file !== 'node_modules')
    .sort()
    .map((file) => readFileSync(join(packageFolder, file)))
  const key = createHash('sha256').update(Buffer.concat(files)).digest('hex').slice(0, 16)
  const destination = join(tmpdir(), 'open-actions-test-packs', key)
  mkdirSync(destination, { recursive: true })
  const output = execFileSync('npm', ['pack', '--silent', '--pack-destination', destination, packageFolder], {
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120_000
  })
  const name = output.toString('utf8').trim().split('\n').at(-1) ?? ''
  return join(destination, name)
}
