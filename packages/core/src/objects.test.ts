import { describe, expect, it } from '@jest/globals'
import { compact } from './objects'

describe('compact', () => {
  it('leaves out undefined values and keeps every other falsy one', () => {
    expect(compact({ a: undefined, b: null, c: 0, d: false, e: '', f: 'x' })).toEqual({
      b: null,
      c: 0,
      d: false,
      e: '',
      f: 'x'
    })
  })

  it('also leaves out empty strings when asked', () => {
    expect(compact({ a: '', b: ' ', c: undefined, d: 0 }, { dropEmptyStrings: true })).toEqual({ b: ' ', d: 0 })
  })

  it('copies: the input is not changed, and an own __proto__ key stays a plain key', () => {
    const input = JSON.parse('{"__proto__":{"polluted":true},"a":undefined}'.replace('undefined', 'null')) as Record<
      string,
      unknown
    >
    const output = compact(input)
    expect(output).not.toBe(input)
    expect(Object.keys(output)).toEqual(['__proto__', 'a'])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})
