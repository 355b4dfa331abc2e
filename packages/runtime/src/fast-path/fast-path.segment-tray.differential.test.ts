import { describe, expect, it } from '@jest/globals'
import { registry } from '../start'
import { describeDifferential, DIFFERENTIAL_GROUPS } from './fast-path.differential.test-helpers'

describeDifferential(DIFFERENTIAL_GROUPS[2] ?? [])

describe('the differential fuzz test files', () => {
  it('cover every integration that has a destination, each in one group', () => {
    const grouped = DIFFERENTIAL_GROUPS.flat()
    expect(new Set(grouped).size).toBe(grouped.length)
    expect(new Set(grouped)).toStrictEqual(
      new Set([...registry.keys()].filter((slug) => Object.keys(registry.get(slug)?.destinations ?? {}).length > 0))
    )
  })
})
