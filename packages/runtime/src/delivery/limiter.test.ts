import { describe, expect, it } from '@jest/globals'
import { Limiter } from './limiter'

function deferred(): { promise: Promise<void>; resolve: () => void } {
  const gate: { resolve: () => void } = { resolve: () => undefined }
  const promise = new Promise<void>((resolve) => {
    gate.resolve = resolve
  })
  return { promise, resolve: () => gate.resolve() }
}

const tick = () => new Promise((resolve) => setImmediate(resolve))

describe('Limiter', () => {
  it('runs at most `limit` tasks at once and starts the waiting ones in arrival order', async () => {
    const limiter = new Limiter(2)
    const gates = Array.from({ length: 5 }, deferred)
    const started: number[] = []
    const done = gates.map((gate, index) =>
      limiter.run(async () => {
        started.push(index)
        await gate.promise
        return index
      })
    )
    await tick()
    expect(started).toEqual([0, 1])
    expect([limiter.active, limiter.queued]).toEqual([2, 3])
    gates[1]?.resolve()
    await tick()
    expect(started).toEqual([0, 1, 2])
    gates[0]?.resolve()
    gates[2]?.resolve()
    await tick()
    expect(started).toEqual([0, 1, 2, 3, 4])
    expect([limiter.active, limiter.queued]).toEqual([2, 0])
    gates[3]?.resolve()
    gates[4]?.resolve()
    await expect(Promise.all(done)).resolves.toEqual([0, 1, 2, 3, 4])
    expect([limiter.active, limiter.queued]).toEqual([0, 0])
  })

  it('frees the slot of a task that fails and passes its error on', async () => {
    const limiter = new Limiter(1)
    const failing = limiter.run(() => Promise.reject(new Error('vendor down')))
    const next = limiter.run(() => Promise.resolve('next ran'))
    await expect(failing).rejects.toThrow('vendor down')
    await expect(next).resolves.toBe('next ran')
    expect(limiter.active).toBe(0)
  })

  it('never exceeds its limit across thousands of tasks (the queue compacts as it goes)', async () => {
    const limiter = new Limiter(3)
    let running = 0
    let peak = 0
    const results = await Promise.all(
      Array.from({ length: 5000 }, (_, index) =>
        limiter.run(async () => {
          running += 1
          peak = Math.max(peak, running)
          await tick()
          running -= 1
          return index
        })
      )
    )
    expect(peak).toBe(3)
    expect(results[4999]).toBe(4999)
    expect([limiter.active, limiter.queued]).toEqual([0, 0])
  })

  it('refuses a limit that is not a positive integer', () => {
    expect(() => new Limiter(0)).toThrow('limit must be a positive integer, got 0')
    expect(() => new Limiter(1.5)).toThrow('limit must be a positive integer, got 1.5')
  })
})
