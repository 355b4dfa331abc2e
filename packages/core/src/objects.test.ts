import { describe, expect, it } from '@jest/globals'
import { compact, setOwn } from './objects'

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

describe('setOwn', () => {
  it('sets a key as assignment does, and a __proto__ key as a plain own key that JSON keeps', () => {
    const target: Record<string, unknown> = {}
    setOwn(target, 'a', 1)
    setOwn(target, '__proto__', { polluted: true })
    setOwn(target, 'a', 2)
    expect(Object.getPrototypeOf(target)).toBe(Object.prototype)
    expect(Object.keys(target)).toEqual(['a', '__proto__'])
    expect(JSON.stringify(target)).toBe('{"a":2,"__proto__":{"polluted":true}}')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})
