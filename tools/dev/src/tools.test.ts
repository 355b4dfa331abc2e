import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from '@jest/globals'
import { checkArchitecture, declares, firstParagraph, MAX_LINES } from './architecture'
import { pendingBumps } from './changesets'
import { checkContract, checkDestination } from './check-definitions'
import { breakingChanges, contractOf } from './contract'
import { renderTables, withTables } from './docs'
import { namesOf, renameText, scaffold } from './new-integration'
import { type AnyDestination, integrationPackages, INTEGRATIONS_DIR, loadIntegration, REPO_ROOT } from './workspace'

const example = loadIntegration(
  integrationPackages().find((integration) => integration.slug === 'example') ?? {
    slug: 'example',
    dir: join(INTEGRATIONS_DIR, 'example'),
    packageJson: { name: '@open-actions/example', version: '0.1.0' }
  }
)
const exampleDestination = example.destinations.destination as AnyDestination

function withoutSetting(definition: AnyDestination, key: string): AnyDestination {
  const { [key]: _removed, ...fields } = definition.authentication?.fields ?? {}
  return { ...definition, authentication: { scheme: 'custom', fields } }
}

describe('the breaking-change guard', () => {
  it('fails when a settings key is removed from the example, unless its changeset is a major bump', () => {
    const changed = { ...example, destinations: { destination: withoutSetting(exampleDestination, 'region') } }
    expect(checkContract(changed, new Map())).toStrictEqual([
      '@open-actions/example: breaking change without a major changeset: destination: setting "region" was removed'
    ])
    expect(checkContract(changed, new Map([['@open-actions/example', 'minor']]))).toHaveLength(1)
    expect(checkContract(changed, new Map([['@open-actions/example', 'major']]))).toStrictEqual([])
    expect(checkContract(example, new Map())).toStrictEqual([])
  })

  it('names every kind of break and ignores additions', () => {
    const released = contractOf('@open-actions/example', { destination: exampleDestination }, {})
    const trackEvent = exampleDestination.actions.trackEvent
    const changed: AnyDestination = {
      ...exampleDestination,
      slug: 'renamed',
      authentication: {
        scheme: 'custom',
        fields: {
          ...exampleDestination.authentication?.fields,
          extra: { label: 'Extra', description: 'x', type: 'string' }
        }
      },
      actions: {
        trackEvent: trackEvent
          ? {
              ...trackEvent,
              fields: {
                ...trackEvent.fields,
                anonymous_id: {
                  ...trackEvent.fields.anonymous_id,
                  type: 'string',
                  required: true,
                  label: 'A',
                  description: 'a'
                }
              }
            }
          : trackEvent
      } as AnyDestination['actions']
    }
    expect(breakingChanges(released, contractOf('@open-actions/example', { destination: changed }, {}))).toStrictEqual([
      'destination: slug changed from open-actions-example to renamed',
      'destination: action "identifyUser" was removed',
      'destination.trackEvent: field "anonymous_id" is now required'
    ])
  })

  it('reads the pending bumps from changesets, highest first', () => {
    const directory = mkdtempSync(join(tmpdir(), 'changesets-'))
    writeFileSync(join(directory, 'a.md'), '---\n\'@open-actions/a\': minor\n"@open-actions/b": patch\n---\n\nText.\n')
    writeFileSync(join(directory, 'b.md'), "---\n'@open-actions/a': major\n---\n\nText.\n")
    expect(pendingBumps(directory)).toStrictEqual(
      new Map([
        ['@open-actions/a', 'major'],
        ['@open-actions/b', 'patch']
      ])
    )
  })
})

describe('definition checks', () => {
  it('flags secrets that are not password fields, bad FQL, presets pointing nowhere and missing descriptions', () => {
    const broken: AnyDestination = {
      ...exampleDestination,
      authentication: {
        scheme: 'custom',
        fields: {
          ...exampleDestination.authentication?.fields,
          api_key: { label: 'API Key', description: 'k', type: 'string' },
          region: {
            label: 'Region',
            description: '',
            type: 'string',
            choices: [{ value: 'us', label: 'US' }],
            default: 'eu'
          }
        }
      },
      presets: [
        { name: 'Ghost', subscribe: 'type = "track"', partnerAction: 'ghost', mapping: {}, type: 'automatic' },
        {
          name: 'Bad FQL',
          subscribe: 'type = "track" and (',
          partnerAction: 'trackEvent',
          mapping: { nope: 1 },
          type: 'automatic'
        }
      ]
    }
    expect(checkDestination('example/destination', broken)).toStrictEqual([
      'example/destination: setting "api_key" looks like a secret but is a string field; make it type "password" so it is redacted',
      'example/destination: setting "region" has no description',
      'example/destination: setting "region" defaults to "eu", which is not one of its choices (us)',
      'example/destination: preset "Ghost" points at action "ghost", which does not exist',
      'example/destination: preset "Bad FQL": subscribe "type = \\"track\\" and (" is not valid FQL',
      'example/destination: preset "Bad FQL" maps "nope", which is not a field of trackEvent'
    ])
    expect(checkDestination('example/destination', exampleDestination)).toStrictEqual([])
  })
})

describe('generated docs', () => {
  it('regenerates the tables from the definition, so a changed description makes the README stale', () => {
    const readme = readFileSync(join(INTEGRATIONS_DIR, 'example', 'README.md'), 'utf8')
    const tables = renderTables('example')
    expect(withTables(readme, tables)).toBe(readme)
    expect(tables).toContain(
      '| `workspace_id` | string | yes |  | Your Example Vendor workspace id, from Settings → Workspace. |'
    )
    expect(withTables(readme, tables.replace('Your Example Vendor workspace id', 'Another description'))).not.toBe(
      readme
    )
  })
})

describe('the scaffold', () => {
  it('derives every name from the integration name and refuses bad ones', () => {
    expect(namesOf('acme-cloud')).toStrictEqual({
      slug: 'acme-cloud',
      camel: 'acmeCloud',
      pascal: 'AcmeCloud',
      upper: 'ACME_CLOUD',
      title: 'Acme Cloud'
    })
    expect(() => namesOf('Acme Cloud!')).toThrow('is not a valid integration name')
    expect(
      renameText(
        "import { exampleRegions, type ExampleSettings, EXAMPLE_LIMITS } from './example-api' // Example Vendor",
        namesOf('acme-cloud')
      )
    ).toBe(
      "import { acmeCloudRegions, type AcmeCloudSettings, ACME_CLOUD_LIMITS } from './acme-cloud-api' // Acme Cloud"
    )
  })

  it('makes a package that typechecks and passes its tests at once', () => {
    // Inside the repo, so jest, swc and @types/node resolve from the root as they do for real packages.
    const into = mkdtempSync(join(__dirname, '..', '.scaffold-tmp-'))
    const target = scaffold('acme-cloud', { into })
    try {
      // The new package resolves the same dependencies as the example it was copied from.
      symlinkSync(join(INTEGRATIONS_DIR, 'example', 'node_modules'), join(target, 'node_modules'), 'dir')
      writeFileSync(
        join(target, 'tsconfig.json'),
        JSON.stringify({
          extends: join(REPO_ROOT, 'tsconfig.base.json'),
          compilerOptions: { rootDir: 'src', outDir: 'dist' },
          include: ['src']
        })
      )
      writeFileSync(
        join(target, 'jest.config.js'),
        `module.exports = { ...require(${JSON.stringify(join(REPO_ROOT, 'jest.preset.js'))}), rootDir: __dirname }\n`
      )
      expect(existsSync(join(target, 'src', 'acme-cloud-api.ts'))).toBe(true)
      const packageJson = JSON.parse(readFileSync(join(target, 'package.json'), 'utf8')) as Record<string, unknown>
      expect(packageJson).toMatchObject({
        name: '@open-actions/acme-cloud',
        repository: { directory: 'packages/integrations/acme-cloud' },
        homepage: 'https://github.com/open-actions/open-actions/tree/main/packages/integrations/acme-cloud#readme',
        keywords: ['segment', 'actions', 'destination', 'acme-cloud'],
        publishConfig: { access: 'public', provenance: true }
      })
      expect(packageJson.private).toBeUndefined()
      expect(readFileSync(join(target, 'src', 'destination.ts'), 'utf8')).toContain("name: 'Acme Cloud (Actions)'")
      execFileSync(join(REPO_ROOT, 'node_modules', '.bin', 'tsc'), ['-p', join(target, 'tsconfig.json'), '--noEmit'], {
        stdio: 'pipe'
      })
      execFileSync(join(REPO_ROOT, 'node_modules', '.bin', 'jest'), ['--config', join(target, 'jest.config.js')], {
        cwd: target,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe']
      })
    } finally {
      rmSync(into, { recursive: true, force: true })
    }
  })
})

describe('the architecture map check', () => {
  it('finds every file and symbol ARCHITECTURE.md names in this repository, and every package README points at it', () => {
    expect(checkArchitecture()).toStrictEqual([])
  })

  it('fails on a file that is gone, a symbol its file no longer declares, a long map and a README that does not point', () => {
    const root = mkdtempSync(join(tmpdir(), 'architecture-'))
    try {
      mkdirSync(join(root, 'packages', 'thing', 'src'), { recursive: true })
      writeFileSync(join(root, 'packages', 'thing', 'package.json'), '{"name": "thing"}')
      writeFileSync(join(root, 'packages', 'thing', 'README.md'), '# thing\n\nDoes things.\n')
      writeFileSync(
        join(root, 'packages', 'thing', 'src', 'a.ts'),
        'export function kept() {}\nexport class Kept {\n  async method(): Promise<void> {}\n}\n'
      )
      const map = [
        '# Architecture',
        '`kept` in `packages/thing/src/a.ts`, `method` in `packages/thing/src/a.ts`, `Kept` in `packages/thing/src/a.ts`.',
        '`renamed` in `packages/thing/src/a.ts`; `packages/thing/src/gone.ts`; `packages/<vendor>/src/` is a pattern.',
        ...Array.from({ length: MAX_LINES }, () => '')
      ].join('\n')
      writeFileSync(join(root, 'ARCHITECTURE.md'), map)
      expect(checkArchitecture(root)).toStrictEqual([
        `ARCHITECTURE.md has ${MAX_LINES + 3} lines; keep it under ${MAX_LINES}`,
        'ARCHITECTURE.md names packages/thing/src/gone.ts, which does not exist',
        'ARCHITECTURE.md names renamed in packages/thing/src/a.ts, which does not declare it',
        'packages/thing/README.md: its first paragraph should say where the package sits in ARCHITECTURE.md'
      ])
      writeFileSync(join(root, 'packages', 'thing', 'README.md'), '# thing\n\nDoes things (see ARCHITECTURE.md).\n')
      writeFileSync(join(root, 'ARCHITECTURE.md'), '# Architecture\n\n`kept` in `packages/thing/src/a.ts`\n')
      expect(checkArchitecture(root)).toStrictEqual([])
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  it('reads declarations, not mentions', () => {
    expect(declares('export const answer = 42', 'answer')).toBe(true)
    expect(declares('interface Shape { x: number }', 'Shape')).toBe(true)
    expect(declares('export { a, helper as other }', 'helper')).toBe(true)
    expect(declares('// answer is not declared here\ncall(answer)', 'answer')).toBe(false)
    expect(firstParagraph('# Title\n\nFirst line\nsecond line.\n\nMore.')).toBe('First line\nsecond line.')
  })
})
