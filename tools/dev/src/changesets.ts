import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from './workspace'

export type Bump = 'major' | 'minor' | 'patch'

/** The bump each package gets from the pending changesets (`.changeset/*.md` front matter), highest wins. */
export function pendingBumps(directory = join(REPO_ROOT, '.changeset')): Map<string, Bump> {
  const order: Record<Bump, number> = { patch: 1, minor: 2, major: 3 }
  const bumps = new Map<string, Bump>()
  if (!existsSync(directory)) return bumps
  for (const file of readdirSync(directory)) {
    if (!file.endsWith('.md') || file === 'README.md') continue
    const match = /^---\n([\s\S]*?)\n---/.exec(readFileSync(join(directory, file), 'utf8'))
    if (!match?.[1]) continue
    for (const line of match[1].split('\n')) {
      const entry = /^\s*['"]?([^'":]+)['"]?\s*:\s*(major|minor|patch)\s*$/.exec(line)
      if (!entry?.[1] || !entry[2]) continue
      const name = entry[1].trim()
      const bump = entry[2] as Bump
      const existing = bumps.get(name)
      if (!existing || order[bump] > order[existing]) bumps.set(name, bump)
    }
  }
  return bumps
}
