import { runTool, toolArguments } from './cli-args'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { InputField } from '@segment/actions-core'
import { type AnyDestination, integrationPackages, loadIntegration } from './workspace'

// prettier-ignore markers keep the formatter from realigning the tables, so `pnpm docs --check` stays exact.
export const START = '<!-- prettier-ignore-start -->\n<!-- generated: definition tables (pnpm docs) -->'
export const END = '<!-- end of generated tables -->\n<!-- prettier-ignore-end -->'

function cell(value: unknown): string {
  if (value === undefined || value === '') return ''
  const text = typeof value === 'string' ? value : JSON.stringify(value)
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}

function fieldRows(fields: Record<string, InputField>): string[] {
  return Object.entries(fields).map(
    ([key, field]) =>
      `| \`${key}\` | ${field.type}${field.multiple ? '[]' : ''} | ${field.required === true ? 'yes' : ''} | ${cell(field.default === undefined ? '' : `\`${cell(field.default)}\``)} | ${cell(field.description)} |`
  )
}

function destinationTables(key: string, definition: AnyDestination): string[] {
  const lines = [
    `### ${definition.name} (\`${key}\`)`,
    '',
    cell(definition.description),
    '',
    '**Settings**',
    '',
    '| key | type | required | default | description |',
    '|---|---|---|---|---|'
  ]
  lines.push(...fieldRows((definition.authentication?.fields ?? {}) as Record<string, InputField>))
  lines.push('', '**Presets**', '', '| preset | action | subscription |', '|---|---|---|')
  for (const preset of definition.presets ?? []) {
    if (preset.type === 'automatic')
      lines.push(`| ${cell(preset.name)} | \`${preset.partnerAction}\` | \`${cell(preset.subscribe)}\` |`)
  }
  for (const [actionKey, action] of Object.entries(definition.actions)) {
    lines.push(
      '',
      `**Action: ${action.title}** (\`${actionKey}\`${action.performBatch ? ', batches' : ''}) — ${cell(action.description)}`,
      ''
    )
    if (action.defaultSubscription) lines.push(`Default subscription: \`${cell(action.defaultSubscription)}\``, '')
    lines.push(
      '| field | type | required | default | description |',
      '|---|---|---|---|---|',
      ...fieldRows(action.fields)
    )
  }
  return lines
}

/** The generated part of an integration README: its settings, presets, actions and fields, from the definitions. */
export function renderTables(slug: string): string {
  const integration = loadIntegration(
    integrationPackages().find((candidate) => candidate.slug === slug) ?? {
      slug,
      dir: '',
      packageJson: { name: slug, version: '0.0.0' }
    }
  )
  const lines = [START, '', '## Reference', '']
  for (const [key, definition] of Object.entries(integration.destinations))
    lines.push(...destinationTables(key, definition), '')
  for (const [key, source] of Object.entries(integration.sources))
    lines.push(
      `### Source: ${source.name} (\`${key}\`)`,
      '',
      cell(source.description),
      '',
      `Served by the runtime at \`POST /v1/sources/<id>\`.`,
      ''
    )
  lines.push(END)
  return lines.join('\n')
}

export function withTables(readme: string, tables: string): string {
  const start = readme.indexOf(START)
  const end = readme.indexOf(END)
  if (start >= 0 && end > start) return `${readme.slice(0, start)}${tables}${readme.slice(end + END.length)}`
  return `${readme.trimEnd()}\n\n${tables}\n`
}

async function main(): Promise<void> {
  const check = toolArguments('docs', { check: { type: 'boolean' } }).flag('check')
  const stale: string[] = []
  for (const integration of integrationPackages()) {
    const file = join(integration.dir, 'README.md')
    const current = readFileSync(file, 'utf8')
    const next = withTables(current, renderTables(integration.slug))
    if (next === current) continue
    if (check) stale.push(file)
    else writeFileSync(file, next)
  }
  if (stale.length > 0) {
    console.error(
      `Generated README tables are stale in:\n${stale.map((file) => `  - ${file}`).join('\n')}\nRun pnpm docs and commit the result.`
    )
    process.exitCode = 1
    return
  }
  console.log(check ? 'docs are up to date' : 'docs written')
}

if (require.main === module) runTool(main)
