import { afterEach, describe, expect, it } from '@jest/globals'
import { request } from 'node:http'
import { FaultBook } from '../transport/faults'
import { createSimulators } from './index'
import { type SimulatorServer, startSimulatorServer } from './server'

/*
 * The simulator server's record of accepted requests, over real loopback sockets: bounded, and in order once full.
 * It used to drop the oldest by splicing the front of a full array, which moved every entry on every request.
 */
let server: SimulatorServer | undefined

afterEach(async () => {
  await server?.close()
  server = undefined
})

const WRITE_KEY_AUTH = `Basic ${Buffer.from('sandbox-segment-write-key:').toString('base64')}`

function post(port: number, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const sent = request(
      { host: '127.0.0.1', port, method: 'POST', path: '/v1/track', headers: { host: 'api.segment.io', ...headers } },
      (response) => {
        response.resume()
        response.once('end', () => resolve(response.statusCode ?? 0))
      }
    )
    sent.once('error', reject)
    sent.end(body)
  })
}

const track = (n: number) => JSON.stringify({ event: `E${n}`, userId: 'u1', messageId: `m${n}` })

describe('the simulator server’s accepted requests', () => {
  it('keeps the last `keepAccepted` 2xx requests, oldest first, after many more than that', async () => {
    server = await startSimulatorServer(createSimulators(), new FaultBook(), { keepAccepted: 3 })
    const statuses: number[] = []
    for (let n = 1; n <= 7; n++)
      statuses.push(
        await post(server.port, { authorization: WRITE_KEY_AUTH, 'content-type': 'application/json' }, track(n))
      )
    // Refused (no write key): answered, never recorded as accepted.
    statuses.push(await post(server.port, { 'content-type': 'application/json' }, track(8)))

    expect(statuses).toStrictEqual([200, 200, 200, 200, 200, 200, 200, 401])
    expect(server.accepted).toStrictEqual(
      [5, 6, 7].map((n) => ({ host: 'api.segment.io', path: '/v1/track', body: track(n) }))
    )
    expect(server.counters.requests).toBe(8)
  })

  it('holds fewer than the limit in arrival order, and each read is a copy the caller cannot change it through', async () => {
    server = await startSimulatorServer(createSimulators(), new FaultBook(), { keepAccepted: 3 })
    for (let n = 1; n <= 2; n++)
      await post(server.port, { authorization: WRITE_KEY_AUTH, 'content-type': 'application/json' }, track(n))

    const read = server.accepted as { body: string }[]
    expect(read.map((entry) => entry.body)).toStrictEqual([track(1), track(2)])
    read.length = 0
    expect(server.accepted.map((entry) => entry.body)).toStrictEqual([track(1), track(2)])
  })

  it('keeps 20,000 by default: the 20,001st request drops only the first', async () => {
    server = await startSimulatorServer(createSimulators(), new FaultBook())
    const port = server.port
    const send = (n: number) =>
      post(port, { authorization: WRITE_KEY_AUTH, 'content-type': 'application/json' }, track(n))
    // The first and the last alone, so which one arrived first is known; the rest eight at a time.
    expect(await send(1)).toBe(200)
    let next = 2
    const sender = async () => {
      while (next <= 20_000) await send(next++)
    }
    await Promise.all(Array.from({ length: 8 }, sender))
    expect(server.accepted).toHaveLength(20_000)
    expect(await send(20_001)).toBe(200)

    const accepted = server.accepted
    expect(accepted).toHaveLength(20_000)
    const bodies = new Set(accepted.map((entry) => entry.body))
    expect(bodies.has(track(1))).toBe(false)
    expect(bodies.has(track(2))).toBe(true)
    expect(bodies.has(track(20_001))).toBe(true)
  })
})
