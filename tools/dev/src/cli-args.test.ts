import { describe, expect, it } from '@jest/globals'
import { ToolUsageError, toolArguments } from './cli-args'

describe('tool command lines', () => {
  const options = { runs: { type: 'string' }, json: { type: 'string' }, check: { type: 'boolean' } } as const

  it('takes --name value and --name=value alike', () => {
    expect(toolArguments('bench', options, ['--runs', '5']).number('runs', 3)).toBe(5)
    expect(toolArguments('bench', options, ['--runs=7']).number('runs', 3)).toBe(7)
    expect(toolArguments('bench', options, ['--json', 'out.json']).string('json')).toBe('out.json')
    expect(toolArguments('bench', options, []).number('runs', 3)).toBe(3)
    expect(toolArguments('docs', options, ['--check']).flag('check')).toBe(true)
    expect(toolArguments('docs', options, []).flag('check')).toBe(false)
  })

  it('refuses what it does not know, naming it', () => {
    expect(() => toolArguments('bench', options, ['--rnus', '5'])).toThrow(
      new ToolUsageError('bench', 'unknown option --rnus (options: --runs, --json, --check)')
    )
    expect(() => toolArguments('bench', options, ['--json'])).toThrow(
      new ToolUsageError('bench', 'option --json needs a value')
    )
    expect(() => toolArguments('bench', options, ['stray'])).toThrow(
      new ToolUsageError('bench', 'takes 0 argument(s), got 1: stray')
    )
    expect(() => toolArguments('bench', options, ['--runs', 'many']).number('runs', 3)).toThrow(
      new ToolUsageError('bench', '--runs must be a whole number of at least 1 (got many)')
    )
    expect(() => toolArguments('bench', options, ['--runs', '0']).number('runs', 3)).toThrow(
      'bench: --runs must be a whole number of at least 1 (got 0)'
    )
  })
})
