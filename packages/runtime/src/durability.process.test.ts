import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals'
import Database from 'better-sqlite3'
// The factories alone: the package index loads nock, which patches http.ClientRequest.
import * as events from '@open-actions/testing/events'
import type { Fault } from './config'
import {
  acceptAll,
  assertBuilt,
  delay,
  json,
  postEvents,
  processConfig,
  type RuntimeProcess,
  runCli,
  SAMPLE_VENDOR_HOSTS,
  scratchDir,
  spawnRuntime,
  waitFor,
  waitForEmptyBacklog
} from './process-harness.test-helpers'
import type { EventResult } from './store/results'
import { SqliteStore } from './store/sqlite-store'

/*
 * The delivery guarantee, tried with real processes: the built CLI is started, loaded, killed (-9) or stopped
 * (SIGTERM) mid-flight, started again on the same state directory, and every accepted event is counted.
 */
// Process tests start and stop several runtimes each.
jest.setTimeout(180_000)

const running: RuntimeProcess[] = []
afterEach(() => {
  for (const process of running.splice(0)) if (process.child.exitCode === null) process.child.kill('SIGKILL')
})

beforeAll(() => assertBuilt())

async function start(config: ReturnType<typeof processConfig>, directory: string): Promise<RuntimeProcess> {
  const started = await spawnRuntime(config, directory)
  running.push(started)
  return started
}

const slowly = (delayMs: number): Fault[] => SAMPLE_VENDOR_HOSTS.map((host) => ({ host, delayMs }))

interface Tally {
  readonly events: number
  readonly targets: number
  readonly delivered: number
  readonly deadLettered: number
  readonly lost: number
}

/** Looks up every event: each target must have ended delivered or dead-lettered. */
async function tally(url: string, ids: readonly string[]): Promise<Tally> {
  let targets = 0
  let delivered = 0
  let deadLettered = 0
  let lost = 0
  for (const id of ids) {
    const { status, body } = await json<EventResult>(`${url}/v1/events/${encodeURIComponent(id)}`)
    if (status !== 200 || body.targets.length === 0) {
      lost += 1
      continue
    }
    for (const target of body.targets) {
      targets += 1
      if (target.status === 'delivered') delivered += 1
      else if (target.status === 'dead_lettered') deadLettered += 1
      else lost += 1
    }
  }
  return { events: ids.length, targets, delivered, deadLettered, lost }
}

async function stopAndWait(process: RuntimeProcess, signal: NodeJS.Signals) {
  const started = Date.now()
  process.child.kill(signal)
  const exit = await process.exited
  return { ...exit, ms: Date.now() - started }
}

/** The runtime's JSON log lines (pino) among what a process printed. */
function logLines(output: readonly string[]): Record<string, unknown>[] {
  return output
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}

describe('nothing accepted is lost, with real processes', () => {
  it('kill -9 with accepted events in flight at slow vendors: a restart on the same directory delivers every one', async () => {
    const directory = scratchDir('open-actions-kill9-')
    const stateDir = join(directory, 'state')
    const first = await start(processConfig(stateDir, { sandbox: { faults: slowly(1500) } }), directory)
    const ids = await acceptAll(first.url, 'kill9', 600)
    // Sends are under way at every vendor (answers take 1.5 s): kill the process in the middle of them.
    await waitFor('sends in flight', async () => {
      const metrics = await (await fetch(`${first.url}/metrics`)).text()
      const sending = /^open_actions_deliveries_sending (\d+)/m.exec(metrics)
      return Number(sending?.[1] ?? 0) > 0 ? true : undefined
    })
    await delay(300)
    expect(await stopAndWait(first, 'SIGKILL')).toMatchObject({ signal: 'SIGKILL' })

    const second = await start(processConfig(stateDir), directory)
    await waitForEmptyBacklog(second.url)
    expect(await tally(second.url, ids)).toStrictEqual({
      events: 600,
      targets: 3000,
      delivered: 3000,
      deadLettered: 0,
      lost: 0
    })
    expect(
      logLines(second.stdout).find((line) => line.msg === 'resumed deliveries left by the previous process')
    ).toMatchObject({ level: 'info', resumed: expect.any(Number) })
  })

  it('SIGTERM with retries waiting and a vendor that never answers in time: exits within shutdownTimeoutMs, loses nothing', async () => {
    const directory = scratchDir('open-actions-sigterm-')
    const stateDir = join(directory, 'state')
    const faults: Fault[] = [
      { host: 'unification.useinsider.com', status: 503 },
      { host: 'api.onesignal.com', delayMs: 60_000 },
      { host: 'api.segment.io', status: 500, times: 3 }
    ]
    const first = await start(processConfig(stateDir, { sandbox: { faults }, shutdownTimeoutMs: 1500 }), directory)
    const ids = await acceptAll(first.url, 'sigterm', 300)
    await waitFor('retries scheduled', async () => {
      const metrics = await (await fetch(`${first.url}/metrics`)).text()
      return /open_actions_retries_total\{action="[^"]+",instance="insider"\} [1-9]/.test(metrics) ? true : undefined
    })
    const stopped = await stopAndWait(first, 'SIGTERM')
    expect(stopped.code).toBe(0)
    // 1.5 s for sends in flight, plus the time to close; far below the vendor's 60 s.
    expect(stopped.ms).toBeLessThan(10_000)

    const second = await start(processConfig(stateDir), directory)
    await waitForEmptyBacklog(second.url)
    expect(await tally(second.url, ids)).toStrictEqual({
      events: 300,
      targets: 1500,
      delivered: 1500,
      deadLettered: 0,
      lost: 0
    })
  })

  it('a replay of dead letters killed right after it was accepted: the letters are not lost, their deliveries happen', async () => {
    const directory = scratchDir('open-actions-replay-kill-')
    const stateDir = join(directory, 'state')
    const first = await start(
      processConfig(stateDir, {
        sandbox: { faults: [{ host: 'api.segment.io', status: 400, body: { message: 'refused for the test' } }] }
      }),
      directory
    )
    const ids = await acceptAll(first.url, 'replay', 200)
    await waitForEmptyBacklog(first.url)
    const letters = await json<{ deadLetters: { eventId: string }[] }>(
      `${first.url}/v1/dead-letters?limit=1000&instance=segment`
    )
    expect(letters.body.deadLetters).toHaveLength(200)
    // Vendors now slow, so the replayed deliveries are still in flight when the process dies.
    await fetch(`${first.url}/v1/sandbox/faults`, { method: 'DELETE' })
    for (const fault of slowly(5000))
      await fetch(`${first.url}/v1/sandbox/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(fault)
      })
    const replay = await json<{ replayed: number }>(`${first.url}/v1/dead-letters/replay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ filter: { instance: 'segment' } })
    })
    expect(replay).toMatchObject({ status: 202, body: { replayed: 200 } })
    await stopAndWait(first, 'SIGKILL')

    const second = await start(processConfig(stateDir), directory)
    await waitForEmptyBacklog(second.url)
    expect((await json<{ deadLetters: unknown[] }>(`${second.url}/v1/dead-letters`)).body.deadLetters).toStrictEqual([])
    expect(await tally(second.url, ids)).toStrictEqual({
      events: 200,
      targets: 1000,
      delivered: 1000,
      deadLettered: 0,
      lost: 0
    })
  })

  it('the store cannot write (another process holds it): 503 with Retry-After, health degraded, nothing lost, no vendor retry', async () => {
    const directory = scratchDir('open-actions-store-fail-')
    const stateDir = join(directory, 'state')
    const runtime = await start(processConfig(stateDir, { sandbox: { faults: slowly(800) } }), directory)
    const ids = await acceptAll(runtime.url, 'locked', 100)
    // While those sends are at the vendors, another process takes the database's write lock.
    const intruder = new Database(join(stateDir, 'state.db'), { timeout: 0 })
    intruder.exec('BEGIN EXCLUSIVE')
    try {
      const refused = await postEvents(runtime.url, events.trackEvent('Refused', {}, { messageId: 'locked-refused' }))
      expect(refused.status).toBe(503)
      expect(refused.headers.get('retry-after')).toBe('5')
      expect(refused.body).toStrictEqual({ error: 'the store cannot commit events: SQLITE_BUSY: database is locked' })
      // The answers arrive while the lock is held: their settlements wait in memory.
      await delay(1500)
      const health = await json<{ status: string; store: { ok: boolean; error: string } }>(`${runtime.url}/health`)
      expect(health).toMatchObject({
        status: 503,
        body: { status: 'degraded', store: { ok: false, error: 'SQLITE_BUSY: database is locked' } }
      })
    } finally {
      intruder.exec('ROLLBACK')
      intruder.close()
    }
    await waitFor('the store to recover', async () =>
      (await json<{ status: string }>(`${runtime.url}/health`)).body.status === 'ok' ? true : undefined
    )
    await waitForEmptyBacklog(runtime.url)
    expect(await tally(runtime.url, ids)).toStrictEqual({
      events: 100,
      targets: 500,
      delivered: 500,
      deadLettered: 0,
      lost: 0
    })
    // Delivered once: the failed write never turned into another attempt at the vendor, and the locked store never
    // held the event loop long enough for a vendor's answer to time out.
    expect(logLines(runtime.stdout).filter((line) => line.msg === 'delivery failed; retrying')).toStrictEqual([])
    for (const id of ids) {
      const { body } = await json<EventResult>(`${runtime.url}/v1/events/${id}`)
      expect(body.targets.map((target) => target.attempts)).toStrictEqual([1, 1, 1, 1, 1])
    }
    expect((await json(`${runtime.url}/v1/events/locked-refused`)).status).toBe(404)
    expect(logLines(runtime.stdout).map((line) => [line.level, line.msg])).toContainEqual([
      'error',
      'the store cannot write; accepting is refused and settlements are kept until it can'
    ])
  })

  it('CLI replay killed mid-way, then run again: every line is delivered once it was committed', async () => {
    const directory = scratchDir('open-actions-cli-replay-')
    const stateDir = join(directory, 'state')
    const file = join(directory, 'events.ndjson')
    writeFileSync(
      file,
      `${Array.from({ length: 1000 }, (_, index) => JSON.stringify(events.trackEvent('Replayed', { n: index }, { messageId: `cli-${index}` }))).join('\n')}\n`
    )
    const slowConfig = join(directory, 'slow.json')
    writeFileSync(
      slowConfig,
      JSON.stringify(processConfig(stateDir, { sandbox: { faults: [{ host: 'api.segment.io', delayMs: 10_000 }] } }))
    )
    const first = runCli(['replay', file, '--instance', 'segment', '--config', slowConfig], { cwd: directory })
    await waitFor(
      'lines committed',
      async () => (first.stderr.join('').includes('1000/1000') ? true : undefined),
      30_000
    )
    first.child.kill('SIGKILL')
    await first.exited

    const config = join(directory, 'config.json')
    writeFileSync(config, JSON.stringify(processConfig(stateDir)))
    const second = runCli(['replay', file, '--instance', 'segment', '--config', config], { cwd: directory })
    expect((await second.exited).code).toBe(0)
    const summary = JSON.parse(second.stdout.join('')) as Record<string, number>
    expect(summary).toMatchObject({ lines: 1000, skippedAlreadyDone: 1000, sent: 0, invalid: 0 })
    const store = new SqliteStore({ stateDir })
    try {
      const statuses = new Map<string, number>()
      for (let index = 0; index < 1000; index += 1) {
        const result = await store.eventResult(`cli-${index}`)
        const status = result?.targets.map((target) => `${target.instance}:${target.status}`).join(',') ?? 'missing'
        statuses.set(status, (statuses.get(status) ?? 0) + 1)
      }
      expect(Object.fromEntries(statuses)).toStrictEqual({ 'segment:delivered': 1000 })
    } finally {
      await store.close()
    }
  })
})

describe('a start that cannot run says why on one line and exits at once', () => {
  async function failingStart(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
    const started = Date.now()
    const run = runCli(['start', ...args], { cwd, env })
    const exit = await run.exited
    const stderr = run.stderr.join('').trim()
    return { code: exit.code, ms: Date.now() - started, stderr }
  }

  it.each([
    [
      'a bad port',
      ['--port', 'eighty'],
      {},
      /^open-actions: the port must be a whole number from 0 to 65535 \(got NaN\)$/
    ],
    [
      'a port out of range',
      ['--port', '70000'],
      {},
      /^open-actions: the port must be a whole number from 0 to 65535 \(got 70000\)$/
    ],
    [
      'a public address without a token',
      ['--host', '0.0.0.0', '--port', '0'],
      {},
      /^open-actions: Refusing to listen on 0\.0\.0\.0 without a token: set OPEN_ACTIONS_TOKEN, or bind to 127\.0\.0\.1$/
    ],
    [
      'a misspelled option',
      ['--prot', '80'],
      {},
      /^open-actions: start: unknown option --prot \(options: --config, --host, --port, --allowed-host, --role, --queue\)$/
    ],
    ['an option without its value', ['--port'], {}, /^open-actions: start: option --port needs a value$/],
    [
      'a file argument start does not take',
      ['runtime.json'],
      {},
      /^open-actions: start takes 0 file argument\(s\), got 1: runtime\.json$/
    ],
    [
      'a bad LOG_LEVEL',
      ['--port=0'],
      { LOG_LEVEL: 'verbose' },
      /^open-actions: LOG_LEVEL must be one of debug, info, warn, error \(got "verbose"\)$/
    ]
  ])('%s', async (_name, args, env, message) => {
    const result = await failingStart(args, scratchDir('open-actions-start-'), env)
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(message)
    expect(result.stderr.split('\n')).toHaveLength(1)
    expect(result.ms).toBeLessThan(10_000)
  })

  it('an invalid configuration, a port in use and a state directory in use', async () => {
    const directory = scratchDir('open-actions-start-')
    const bad = join(directory, 'bad.json')
    writeFileSync(bad, JSON.stringify({ delivery: { maxConcurrent: 0 } }))
    const invalid = await failingStart(['--config', bad], directory)
    expect(invalid.code).toBe(2)
    expect(invalid.stderr.split('\n')).toHaveLength(1)
    expect(invalid.stderr).toMatch(
      /^open-actions: Invalid configuration .*bad\.json: delivery\.maxConcurrent: Too small: expected number to be >=1$/
    )

    const stateDir = join(directory, 'state')
    const running = await start(processConfig(stateDir), directory)
    const port = new URL(running.url).port
    const good = join(directory, 'good.json')
    writeFileSync(good, JSON.stringify(processConfig(join(directory, 'other-state'))))
    const portInUse = await failingStart(['--config', good, '--port', port], directory)
    expect(portInUse).toMatchObject({
      code: 2,
      stderr: `open-actions: port ${port} on 127.0.0.1 is in use by another process`
    })
    const same = join(directory, 'same.json')
    writeFileSync(same, JSON.stringify(processConfig(stateDir)))
    const stateInUse = await failingStart(['--config', same, '--port', '0'], directory)
    expect(stateInUse.code).toBe(2)
    expect(stateInUse.stderr).toBe(
      `open-actions: the state directory ${stateDir} is in use by another open-actions process (one process per stateDir)`
    )
    for (const result of [invalid, portInUse, stateInUse]) {
      expect(result.stderr).not.toMatch(/\n\s+at /)
      expect(result.ms).toBeLessThan(10_000)
    }
  })
})
