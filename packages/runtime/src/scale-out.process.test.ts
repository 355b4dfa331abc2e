import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals'
import type { Fault } from './config'
import {
  acceptAll,
  assertBuilt,
  eventBatch,
  delay,
  json,
  postEvents,
  processConfig,
  type RuntimeProcess,
  SAMPLE_VENDOR_HOSTS,
  scratchDir,
  spawnRuntime,
  waitFor,
  waitForEmptyBacklog
} from './process-harness.test-helpers'
import { startPostgresServer, startRedisServer } from '@open-actions/testing/servers'
import type { EventResult } from './store/results'

/*
 * Past one machine, with real processes, on each shared queue: a real redis-server, then a real PostgreSQL, on free
 * ports; the built CLI started as one API process and two worker processes sharing it, a worker killed with -9 in the
 * middle of its deliveries, the server stopped and started again under the API; every accepted event is counted
 * through the API.
 */
jest.setTimeout(180_000)

interface Server {
  readonly url: string
  stop(): Promise<void>
  start(): Promise<void>
  dispose(): Promise<void>
}

const running: RuntimeProcess[] = []

beforeAll(() => assertBuilt())

afterEach(() => {
  for (const process of running.splice(0)) if (process.child.exitCode === null) process.child.kill('SIGKILL')
})

const slowly = (delayMs: number): Fault[] => SAMPLE_VENDOR_HOSTS.map((host) => ({ host, delayMs }))

let server: Server
let kind: 'redis' | 'postgres'

function configFor(directory: string, namespace: string, overrides: Parameters<typeof processConfig>[1] = {}) {
  return processConfig(join(directory, 'state'), {
    queue: { kind, url: server.url, namespace, lockDurationMs: 2000 },
    ...overrides
  })
}

async function start(
  config: ReturnType<typeof processConfig>,
  directory: string,
  role: 'all' | 'api' | 'worker',
  name: string,
  env: NodeJS.ProcessEnv = {}
): Promise<RuntimeProcess> {
  const started = await spawnRuntime(config, directory, {
    args: ['--role', role],
    env: { OPEN_ACTIONS_WORKER_NAME: name, ...env }
  })
  running.push(started)
  return started
}

async function tally(url: string, ids: readonly string[]) {
  const counts = { events: ids.length, targets: 0, delivered: 0, deadLettered: 0, queued: 0, lost: 0 }
  for (const id of ids) {
    const { status, body } = await json<EventResult>(`${url}/v1/events/${encodeURIComponent(id)}`)
    if (status !== 200 || body.targets.length === 0) {
      counts.lost += 1
      continue
    }
    for (const target of body.targets) {
      counts.targets += 1
      if (target.status === 'delivered') counts.delivered += 1
      else if (target.status === 'dead_lettered') counts.deadLettered += 1
      else counts.queued += 1
    }
  }
  return counts
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  let total = 0
  for (const line of text.split('\n')) if (line.startsWith(name)) total += Number(line.split(' ').at(-1))
  return total
}

describe.each([
  { backend: 'redis' as const, startServer: startRedisServer },
  { backend: 'postgres' as const, startServer: startPostgresServer }
])('past one machine: API and worker processes on $backend (BullMQ)', ({ backend, startServer }) => {
  beforeAll(async () => {
    kind = backend
    server = await startServer()
  }, 60_000)

  afterAll(async () => {
    await server.dispose()
  })

  it('one API and two workers: nothing is delivered before a worker starts, a retried ingest is not queued twice, a worker killed -9 mid-delivery loses nothing', async () => {
    const directory = scratchDir('open-actions-scale-')
    const config = configFor(directory, 'scale-kill', { sandbox: { faults: slowly(400) } })
    const api = await start(config, directory, 'api', 'api-1')
    expect((await json(`${api.url}/health`)).body).toMatchObject({ status: 'ok', role: 'api', queue: backend })

    // No worker yet: accepted, committed to Redis, and waiting.
    const ids = await acceptAll(api.url, 'scale', 400)
    await delay(1500)
    expect(await tally(api.url, ids)).toMatchObject({ targets: 2000, delivered: 0, queued: 2000, lost: 0 })
    expect((await json<{ backlog: number }>(`${api.url}/health`)).body.backlog).toBe(2000)

    // A client retrying a request it got no answer to: the same message ids, answered as duplicates, not queued again.
    const retried = await postEvents(api.url, eventBatch('scale', 100))
    expect(retried.status).toBe(202)
    expect((retried.body as { results: EventResult[] }).results.every((result) => result.duplicate === true)).toBe(true)
    expect((await json<{ backlog: number }>(`${api.url}/health`)).body.backlog).toBe(2000)

    const first = await start(config, directory, 'worker', 'worker-1')
    const second = await start(config, directory, 'worker', 'worker-2')
    expect((await json(`${first.url}/health`)).body).toMatchObject({ status: 'ok', role: 'worker', queue: backend })
    // A worker shows its health and metrics, nothing else.
    expect((await fetch(`${first.url}/v1/events/${ids[0]}`)).status).toBe(404)
    expect((await fetch(`${first.url}/`)).status).toBe(404)

    // Both deliver; kill the first in the middle of its sends (vendors answer in 400 ms).
    await waitFor('both workers sending', async () =>
      (await metric(first.url, 'open_actions_deliveries_sending')) > 0 &&
      (await metric(second.url, 'open_actions_deliveries_sending')) > 0
        ? true
        : undefined
    )
    await delay(300)
    first.child.kill('SIGKILL')
    expect(await first.exited).toMatchObject({ signal: 'SIGKILL' })

    await waitForEmptyBacklog(api.url, 120_000)
    expect(await tally(api.url, ids)).toStrictEqual({
      events: 400,
      targets: 2000,
      delivered: 2000,
      deadLettered: 0,
      queued: 0,
      lost: 0
    })
    // The survivor delivered what the killed worker held when it died (after its lock ran out).
    const survived = await metric(second.url, 'open_actions_deliveries_total{')
    expect(survived).toBeGreaterThan(0)
    expect((await json<{ deadLetters: number }>(`${api.url}/health`)).body.deadLetters).toBe(0)
  })

  it('the server unreachable: the API answers 503 with Retry-After and is degraded; when it is back it accepts again and nothing accepted is lost', async () => {
    const directory = scratchDir('open-actions-server-down-')
    // The queue from the environment (OPEN_ACTIONS_QUEUE), and a vendor rate limit only a shared queue can hold.
    const base = processConfig(join(directory, 'state'))
    const config = {
      ...base,
      destinations: (base.destinations ?? []).map((instance) =>
        instance.id === 'tray' ? { ...instance, rateLimit: { max: 1000, perMs: 1000 } } : instance
      )
    }
    expect(config.destinations.some((instance) => instance.rateLimit)).toBe(true)
    const runtime = await start(config, directory, 'all', 'all-1', { OPEN_ACTIONS_QUEUE: server.url })
    expect((await json(`${runtime.url}/health`)).body).toMatchObject({ role: 'all', queue: backend })
    const before = await acceptAll(runtime.url, 'before', 50)
    await waitForEmptyBacklog(runtime.url)

    await server.stop()
    const refused = await postEvents(runtime.url, eventBatch('during', 10))
    expect(refused.status).toBe(503)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
    const health = await json<{ status: string; store: { ok: boolean; error?: string } }>(`${runtime.url}/health`)
    expect(health.status).toBe(503)
    expect(health.body).toMatchObject({ status: 'degraded', store: { ok: false } })

    await server.start()
    await waitFor('accepting again', async () => {
      const response = await postEvents(runtime.url, eventBatch('after', 20))
      return response.status === 202 ? true : undefined
    })
    const after = eventBatch('after', 20).map((event) => event.messageId ?? '')
    await waitForEmptyBacklog(runtime.url)
    expect(await tally(runtime.url, [...before, ...after])).toMatchObject({
      events: 70,
      delivered: 350,
      deadLettered: 0,
      queued: 0,
      lost: 0
    })
    expect((await json(`${runtime.url}/health`)).body).toMatchObject({ status: 'ok' })
  })

  it('a process started with another configuration is refused while the others run', async () => {
    const directory = scratchDir('open-actions-scale-config-')
    const config = configFor(directory, 'scale-config')
    await start(config, directory, 'api', 'api-1')
    const changed = { ...config, delivery: { ...config.delivery, retryForMs: 60_000 } }
    await expect(start(changed, directory, 'worker', 'worker-1')).rejects.toThrow(
      /the processes running on this (Redis|PostgreSQL) \(namespace "scale-config"\) use another configuration/
    )
  })
})

describe('roles without a shared queue', () => {
  it('--role api or worker without a shared queue is refused with what to do', async () => {
    const directory = scratchDir('open-actions-scale-role-')
    await expect(start(processConfig(join(directory, 'state')), directory, 'worker', 'w')).rejects.toThrow(
      /--role worker needs a queue shared by processes/
    )
  })
})
