import { runTool, toolArguments } from './cli-args'
import { cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { INTEGRATIONS_DIR, REPO_ROOT } from './workspace'

export interface IntegrationNames {
  /** Folder and package suffix: `acme-cloud`. */
  readonly slug: string
  /** Identifier prefix: `acmeCloud`. */
  readonly camel: string
  /** Type prefix: `AcmeCloud`. */
  readonly pascal: string
  /** Constant prefix: `ACME_CLOUD`. */
  readonly upper: string
  /** What users read: `Acme Cloud`. */
  readonly title: string
}

export function namesOf(raw: string): IntegrationNames {
  const slug = raw.trim().toLowerCase()
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(slug))
    throw new Error(
      `"${raw}" is not a valid integration name: use lower-case words separated by hyphens, e.g. acme-cloud`
    )
  const words = slug.split('-')
  const capitalised = words.map((word) => `${word[0]?.toUpperCase() ?? ''}${word.slice(1)}`)
  return {
    slug,
    camel: `${words[0]}${capitalised.slice(1).join('')}`,
    pascal: capitalised.join(''),
    upper: words.join('_').toUpperCase(),
    title: capitalised.join(' ')
  }
}

/** The renames that turn the example into a new vendor, applied in this order to every file's text. */
export function renameText(text: string, names: IntegrationNames): string {
  return text
    .replace(/@open-actions\/example/g, `@open-actions/${names.slug}`)
    .replace(/open-actions-example/g, `open-actions-${names.slug}`)
    .replace(/Example Vendor/g, names.title)
    .replace(/example-vendor/g, names.slug)
    .replace(/example-api/g, `${names.slug}-api`)
    .replace(/EXAMPLE_/g, `${names.upper}_`)
    .replace(/\bExample(?=[A-Z])/g, names.pascal)
    .replace(/\bexample(?=[A-Z])/g, names.camel)
}

function walk(directory: string): string[] {
  return readdirSync(directory).flatMap((entry) => {
    const path = join(directory, entry)
    return statSync(path).isDirectory() ? walk(path) : [path]
  })
}

/**
 * Copies packages/integrations/example into packages/integrations/<name> and renames everything, so the new
 * package builds and passes its tests at once; then the vendor's real API replaces the fictional one.
 */
export function scaffold(raw: string, options: { readonly into?: string } = {}): string {
  const names = namesOf(raw)
  const source = join(INTEGRATIONS_DIR, 'example')
  const target = join(options.into ?? INTEGRATIONS_DIR, names.slug)
  if (existsSync(target)) throw new Error(`${target} already exists`)
  cpSync(source, target, {
    recursive: true,
    filter: (path) => !/(^|\/)(node_modules|dist|\.turbo|coverage)(\/|$)/.test(path.slice(source.length))
  })
  for (const file of walk(target)) {
    const renamedPath = file.replace(/example-api/g, `${names.slug}-api`)
    if (renamedPath !== file) renameSync(file, renamedPath)
    writeFileSync(renamedPath, renameText(readFileSync(renamedPath, 'utf8'), names))
  }
  const packageJsonFile = join(target, 'package.json')
  const packageJson = JSON.parse(readFileSync(packageJsonFile, 'utf8')) as Record<string, unknown>
  delete packageJson.private
  packageJson.description = `${names.title} destination for Segment Actions runtimes.`
  // Where it lives, for npm's page and provenance; published with provenance like every other integration.
  const directory = `packages/integrations/${names.slug}`
  const repository = packageJson.repository as { directory?: string }
  repository.directory = directory
  packageJson.homepage = String(packageJson.homepage).replace('packages/integrations/example', directory)
  packageJson.keywords = ['segment', 'actions', 'destination', names.slug]
  packageJson.publishConfig = { access: 'public', provenance: true }
  writeFileSync(packageJsonFile, `${JSON.stringify(packageJson, null, 2)}\n`)
  writeFileSync(join(target, 'CHANGELOG.md'), `# @open-actions/${names.slug}\n`)
  rmSync(join(target, 'contract.json'), { force: true })
  const readme = readFileSync(join(target, 'README.md'), 'utf8')
  const reference = readme.indexOf('<!-- prettier-ignore-start -->')
  writeFileSync(
    join(target, 'README.md'),
    `# @open-actions/${names.slug}\n\n${names.title} for Segment Actions runtimes: one integration package over \`@open-actions/core\` in the [architecture map](../../../ARCHITECTURE.md). Describe what it does and how to turn it on here, then run \`pnpm refresh\`.\n${reference >= 0 ? `\n${readme.slice(reference)}` : ''}`
  )
  if (!options.into) {
    writeFileSync(
      join(REPO_ROOT, '.changeset', `${names.slug}-first-release.md`),
      `---\n'@open-actions/${names.slug}': minor\n---\n\nFirst release of \`@open-actions/${names.slug}\`.\n`
    )
  }
  return target
}

async function main(): Promise<void> {
  const [name = ''] = toolArguments('new-integration', {}, process.argv.slice(2), [1, 1]).positionals
  const target = scaffold(name)
  console.log(`Created ${target}.
Next (CONTRIBUTING.md has the full checklist):
  1. pnpm refresh (links the package, builds, adds it to the runtime's manifest, writes its docs)
  2. replace the fictional API in src/${namesOf(name).slug}-api.ts with the vendor's, and its tests' fixtures with real responses
  3. pnpm refresh again, write the README's overview, edit the changeset in .changeset/, and open one pull request`)
}

if (require.main === module) runTool(main)
