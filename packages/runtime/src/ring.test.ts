import { describe, expect, it } from '@jest/globals'
import { Ring } from './ring'

describe('Ring', () => {
  it('holds what was added, oldest first, until full', () => {
    const ring = new Ring<number>(3)
    ring.add(1)
    ring.add(2)
    expect(ring.toArray()).toStrictEqual([1, 2])
    expect(ring.size).toBe(2)
  })

  it('replaces the oldest once full, still listing oldest first, however far it wraps', () => {
    const ring = new Ring<number>(3)
    const seen: number[][] = []
    for (let n = 1; n <= 8; n++) {
      ring.add(n)
      seen.push(ring.toArray())
    }
    expect(seen).toStrictEqual([[1], [1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 6], [5, 6, 7], [6, 7, 8]])
    expect(ring.size).toBe(3)
  })

  it('hands out copies: changing one does not change the ring', () => {
    const ring = new Ring<number>(2)
    ring.add(1)
    const copy = ring.toArray()
    copy.push(99)
    expect(ring.toArray()).toStrictEqual([1])
  })

  it('retain keeps the accepted items in order, counts the dropped, and the ring fills and wraps again after', () => {
    const ring = new Ring<number>(4)
    for (let n = 1; n <= 6; n++) ring.add(n) // 3, 4, 5, 6 (wrapped)
    expect(ring.retain((n) => n % 2 === 0)).toBe(2)
    expect(ring.toArray()).toStrictEqual([4, 6])
    for (let n = 7; n <= 10; n++) ring.add(n)
    expect(ring.toArray()).toStrictEqual([7, 8, 9, 10])
  })

  it('keeps nothing with a capacity of 0', () => {
    const ring = new Ring<number>(0)
    ring.add(1)
    expect(ring.toArray()).toStrictEqual([])
  })
})
