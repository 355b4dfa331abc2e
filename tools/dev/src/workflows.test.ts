import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { affectedTurboArgs } from './affected'
import { lintWorkflows } from './lint-workflows'

const ROOT = resolve(__dirname, '..', '..', '..')
const TURBO = join(ROOT, 'node_modules', '.bin', 'turbo')

describe('the workflows, linted with actionlint', () => {
  it("the repository's workflows have no problem", async () => {
    expect(await lintWorkflows()).toStrictEqual([])
  })

  it('a broken workflow is reported with the file, line and rule', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'open-actions-workflows-'))
    writeFileSync(
      join(directory, 'broken.yml'),
      'on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.no_such_field }}\n'
    )
    const problems = await lintWorkflows(directory)
    rmSync(directory, { recursive: true, force: true })
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^broken\.yml:6:\d+: property "no_such_field" is not defined .*\[expression\]$/)
  })
})

/*
 * The pull-request workflow's selection, run for real: turbo over a fixture git repository shaped like this one (core;
 * two integrations on it; the runtime on both), a change made in the working tree, and the same arguments the
 * workflow passes (`pnpm affected <base>`).
 */
describe('the affected-package selection of a pull request', () => {
  let fixture: string
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args], {
      cwd: fixture,
      stdio: 'ignore'
    })
  const write = (file: string, text: string) => {
    mkdirSync(join(fixture, file, '..'), { recursive: true })
    writeFileSync(join(fixture, file), text)
  }
  const selected = () => {
    const output = execFileSync(TURBO, [...affectedTurboArgs('HEAD'), '--dry=json'], {
      cwd: fixture,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' }
    })
    // The packages in scope (their dependencies' builds run too, as `^build` asks, without their tests).
    const plan = JSON.parse(output.slice(output.indexOf('{'))) as { packages: string[] }
    return [...plan.packages].sort()
  }

  beforeAll(() => {
    fixture = mkdtempSync(join(tmpdir(), 'open-actions-affected-'))
    const packages: Record<string, string[]> = {
      core: [],
      insider: ['core'],
      tray: ['core'],
      runtime: ['insider', 'tray']
    }
    write(
      'package.json',
      JSON.stringify({ name: 'fixture', private: true, packageManager: 'npm@10.8.2', workspaces: ['packages/*'] })
    )
    const lock: Record<string, unknown> = { '': { name: 'fixture', workspaces: ['packages/*'] } }
    for (const [name, dependsOn] of Object.entries(packages)) {
      const dependencies = Object.fromEntries(dependsOn.map((dependency) => [dependency, '0.0.0']))
      write(
        `packages/${name}/package.json`,
        JSON.stringify({
          name,
          version: '0.0.0',
          dependencies,
          scripts: { build: 'true', typecheck: 'true', lint: 'true', test: 'true' }
        })
      )
      write(`packages/${name}/src/index.ts`, `export const name = '${name}'\n`)
      lock[`packages/${name}`] = { name, version: '0.0.0', dependencies }
      lock[`node_modules/${name}`] = { resolved: `packages/${name}`, link: true }
    }
    write('package-lock.json', JSON.stringify({ name: 'fixture', lockfileVersion: 3, requires: true, packages: lock }))
    execFileSync('cp', [join(ROOT, 'turbo.json'), join(fixture, 'turbo.json')])
    git('init', '-q', '-b', 'main')
    git('add', '-A')
    git('commit', '-q', '-m', 'base')
  })

  afterAll(() => {
    rmSync(fixture, { recursive: true, force: true })
  })

  it('a change to one integration checks it and what depends on it, nothing else', () => {
    write('packages/tray/src/index.ts', "export const name = 'tray, changed'\n")
    expect(selected()).toStrictEqual(['runtime', 'tray'])
    git('checkout', '--', '.')
  })

  it('a change to core checks everything built on it', () => {
    write('packages/core/src/index.ts', "export const name = 'core, changed'\n")
    expect(selected()).toStrictEqual(['core', 'insider', 'runtime', 'tray'])
    git('checkout', '--', '.')
  })

  it('refuses a base that is not a git revision', () => {
    expect(() => affectedTurboArgs('main; rm -rf /')).toThrow('not a git revision')
  })
})
