import { execFileSync } from 'node:child_process'
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'

/*
 * Turbo's cache is only as good as each task's inputs: a root file a task reads and turbo does not hash gives a stale
 * "cache hit". The repository's own turbo.json runs here over a fixture workspace (so the repository is not touched
 * while its own tasks run), and each root file is changed in turn: every task that reads it must miss the cache.
 */
const ROOT = resolve(__dirname, '..', '..', '..')
const TURBO = join(ROOT, 'node_modules', '.bin', 'turbo')
const TASKS = ['build', 'typecheck', 'lint', 'test'] as const

let fixture: string

function hashes(): Record<string, string> {
  const output = execFileSync(TURBO, ['run', ...TASKS, '--dry=json'], {
    cwd: fixture,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' }
  })
  const plan = JSON.parse(output.slice(output.indexOf('{'))) as { tasks: { task: string; hash: string }[] }
  return Object.fromEntries(plan.tasks.map((task) => [task.task, task.hash]))
}

beforeAll(() => {
  fixture = mkdtempSync(join(tmpdir(), 'open-actions-turbo-'))
  mkdirSync(join(fixture, 'packages', 'a', 'src'), { recursive: true })
  writeFileSync(
    join(fixture, 'package.json'),
    JSON.stringify({ name: 'fixture', private: true, packageManager: 'npm@10.8.2', workspaces: ['packages/*'] })
  )
  writeFileSync(
    join(fixture, 'package-lock.json'),
    JSON.stringify({
      name: 'fixture',
      lockfileVersion: 3,
      requires: true,
      packages: {
        '': { name: 'fixture', workspaces: ['packages/*'] },
        'packages/a': { name: 'a', version: '0.0.0' },
        'node_modules/a': { resolved: 'packages/a', link: true }
      }
    })
  )
  writeFileSync(
    join(fixture, 'packages', 'a', 'package.json'),
    JSON.stringify({ name: 'a', version: '0.0.0', scripts: Object.fromEntries(TASKS.map((task) => [task, 'true'])) })
  )
  writeFileSync(join(fixture, 'packages', 'a', 'src', 'index.ts'), 'export const a = 1\n')
  writeFileSync(join(fixture, 'packages', 'a', 'tsconfig.json'), '{"extends":"../../tsconfig.base.json"}\n')
  writeFileSync(join(fixture, 'packages', 'a', 'jest.config.js'), "module.exports = require('../../jest.preset.js')\n")
  for (const file of ['turbo.json', 'tsconfig.base.json', 'jest.preset.js', 'eslint.config.mjs'])
    copyFileSync(join(ROOT, file), join(fixture, file))
})

afterAll(() => {
  rmSync(fixture, { recursive: true, force: true })
})

describe("turbo's inputs: a root file a task reads is part of its hash", () => {
  it.each([
    ['tsconfig.base.json', ['build', 'typecheck', 'lint', 'test']],
    ['jest.preset.js', ['test']],
    ['eslint.config.mjs', ['lint']]
  ])('changing %s misses the cache of %j, and only those', (file, readers) => {
    const before = hashes()
    expect(Object.keys(before).sort()).toStrictEqual([...TASKS].sort())
    // Whitespace only: still valid JSON or JavaScript, and another content hash.
    appendFileSync(join(fixture, file), ' \n')
    const after = hashes()
    const missed = TASKS.filter((task) => before[task] !== after[task])
    expect(missed).toStrictEqual(readers)
  })
})
