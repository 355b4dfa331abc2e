import { describe, expect, it } from '@jest/globals'
import { PayloadValidationError } from '@segment/actions-core'
import { z } from 'zod'
import { defineSource, runSource } from './source'

const source = defineSource({
  slug: 'example-source',
  name: 'Example Source',
  description: 'Turns a ping into a track.',
  settingsSchema: z.strictObject({ write_key: z.string().min(1) }),
  secretSettings: ['write_key'],
  payloadSchema: z.strictObject({ user: z.string().min(1), action: z.enum(['opened', 'closed']) }),
  toMessages: (payload) => [
    { type: 'track', userId: payload.user, event: `Door ${payload.action === 'opened' ? 'Opened' : 'Closed'}` }
  ],
  delivery: (settings) => ({ writeKey: settings.write_key, region: 'us' })
})

describe('runSource', () => {
  it('validates settings and payload and maps the payload to Segment messages', () => {
    expect(runSource(source, { user: 'u-1', action: 'opened' }, { write_key: 'wk' })).toStrictEqual({
      settings: { write_key: 'wk' },
      messages: [{ type: 'track', userId: 'u-1', event: 'Door Opened' }]
    })
  })

  it('names the field and rule for bad input', () => {
    expect(() => runSource(source, { user: 'u-1', action: 'slammed' }, { write_key: 'wk' })).toThrow(
      PayloadValidationError
    )
    expect(() => runSource(source, { user: '', action: 'opened' }, { write_key: 'wk' })).toThrow(
      /^Example Source payload: user /
    )
    expect(() => runSource(source, { user: 'u', action: 'opened' }, {})).toThrow(/^Example Source settings: write_key /)
  })
})
