import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from '@jest/globals'
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
      expect(readFileSync(join(target, 'package.json'), 'utf8')).toContain('"name": "@open-actions/acme-cloud"')
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
