import { describe, expect, it } from '@jest/globals'
import { InvalidSettingError } from './errors'
import { defineRegions } from './regions'

const regions = defineRegions({
  setting: 'region',
  label: 'Region',
  description: 'Where your workspace lives.',
  regions: {
    us: { url: 'https://api.example.com', label: 'United States' },
    eu: { url: 'https://eu.api.example.com', label: 'Europe' }
  },
  defaultRegion: 'us'
})

describe('defineRegions', () => {
  it('yields a settings field with one choice per region and the default', () => {
    expect(regions.field).toStrictEqual({
      label: 'Region',
      description: 'Where your workspace lives.',
      type: 'string',
      required: true,
      choices: [
        { value: 'us', label: 'United States' },
        { value: 'eu', label: 'Europe' }
      ],
      default: 'us'
    })
  })

  it('resolves each region to its host, and a missing region to the default', () => {
    expect(regions.resolve('us')).toBe('https://api.example.com')
    expect(regions.resolve('eu')).toBe('https://eu.api.example.com')
    expect(regions.resolve(undefined)).toBe('https://api.example.com')
  })

  it('refuses an unknown region with an error naming the valid ones instead of falling back', () => {
    expect(() => regions.resolve('ap')).toThrow(
      new InvalidSettingError('region', 'unknown region "ap"; valid regions are us, eu')
    )
    expect(() => regions.resolve('toString')).toThrow(InvalidSettingError)
    try {
      regions.resolve('US')
    } catch (error) {
      expect(error).toMatchObject({ status: 400, code: 'INVALID_SETTING', setting: 'region' })
    }
    expect.assertions(3)
  })
})
