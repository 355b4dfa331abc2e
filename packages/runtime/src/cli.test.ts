import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
// The factories alone: the package index loads nock, which patches http.ClientRequest and would bypass the runtime's agents.
import * as events from '@open-actions/testing/events'
import { main, parseCommandLine, UsageError } from './cli'
import { sampleConfig } from './sample-config'
import { SqliteStore } from './store/sqlite-store'
import { OpenActionsRuntime } from './runtime'
import { loadConfig, registry } from './start'

let stdout: string[]
let stderr: string[]
let directory: string

beforeEach(() => {
  stdout = []
  stderr = []
  directory = mkdtempSync(join(tmpdir(), 'open-actions-cli-'))
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(String(chunk))
    return true
  })
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr.push(String(chunk))
    return true
  })
})
afterEach(() => {
  jest.restoreAllMocks()
})

function writeConfig(overrides: Record<string, unknown> = {}): string {
  const file = join(directory, 'runtime.json')
  writeFileSync(
    file,
    JSON.stringify({
      ...sampleConfig,
      stateDir: join(directory, 'state'),
      batching: { maxEvents: 100, maxBytes: 1048576, maxWaitMs: 10 },
      delivery: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
      ...overrides
    })
  )
  return file
}

describe('open-actions validate', () => {
  it('accepts a valid configuration and names every problem of an invalid one', async () => {
    expect(await main(['validate', writeConfig()])).toBe(0)
    expect(stdout.join('')).toMatch(
      /is valid: 6 destination instance\(s\) \(insider, insider-audiences, moengage, onesignal, segment, tray\), 2 source\(s\), sandbox transport/
    )
    const bad = join(directory, 'bad.json')
    writeFileSync(
      bad,
      JSON.stringify({ destinations: [{ id: 'x', integration: 'segment', settings: { region: 'mars' } }] })
    )
    expect(await main(['validate', bad])).toBe(2)
    expect(stderr.join('')).toContain(`Invalid configuration ${bad}:`)
    expect(stderr.join('')).toContain('destinations[0] "x": settings: ')
    expect(await main(['validate', join(directory, 'missing.json')])).toBe(2)
    expect(stderr.join('')).toContain('cannot read it as JSON')
  })
})

describe('open-actions send', () => {
  it('prints the requests an event would send, secrets redacted', async () => {
    const file = join(directory, 'event.json')
    writeFileSync(file, JSON.stringify(events.trackEvent('Signed Up', { plan: 'pro' }, { messageId: 'cli-send-1' })))
    expect(await main(['send', file, '--instance', 'moengage'])).toBe(0)
    const output = JSON.parse(stdout.join('')) as {
      requests: { url: string; headers: Record<string, string>; body: unknown }[]
    }
    expect(output.requests.map((request) => request.url)).toStrictEqual([
      'https://api-01.moengage.com/v1/transition/SANDBOXWS01'
    ])
    expect(output.requests[0]?.headers.authorization).toBe('[REDACTED]')
    expect(stdout.join('')).not.toContain('sandbox-moengage-data-key')
  })
})

describe('open-actions replay', () => {
  it('delivers an NDJSON file to one instance with a progress bar and a summary, rejecting bad lines with a reason', async () => {
    const config = writeConfig()
    const file = join(directory, 'events.ndjson')
    const lines = Array.from({ length: 250 }, (_, index) =>
      JSON.stringify(events.trackEvent('Replayed', { n: index }, { messageId: `replay-${index}` }))
    )
    lines.splice(10, 0, '{not json', '{"no":"type"}')
    writeFileSync(file, `${lines.join('\n')}\n`)
    expect(await main(['replay', file, '--instance', 'segment', '--config', config])).toBe(0)
    const summary = JSON.parse(stdout.join('')) as Record<string, number>
    expect(summary).toMatchObject({
      lines: 252,
      sent: 250,
      delivered: 250,
      deadLettered: 0,
      invalid: 2,
      skippedAlreadyDone: 0
    })
    expect(stderr.join('')).toContain('[##############################] 252/252 100%')
    const rejected = readFileSync(`${file}.rejected.ndjson`, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { line: number; reason: string })
    expect(rejected.map((entry) => [entry.line, entry.reason.split(':')[0]])).toStrictEqual([
      [11, 'not JSON'],
      [12, 'line 12 is not a Segment event']
    ])
    expect(existsSync(`${file}.progress.json`)).toBe(false)
  })

  it('resumes after the last completed line, and dead-letters what fails', async () => {
    const config = writeConfig({ sandbox: { faults: [{ host: 'api.segment.io', status: 400 }] } })
    const file = join(directory, 'resume.ndjson')
    writeFileSync(
      file,
      `${Array.from({ length: 5 }, (_, index) => JSON.stringify(events.trackEvent('Again', {}, { messageId: `resume-${index}` }))).join('\n')}\n`
    )
    writeFileSync(`${file}.progress.json`, JSON.stringify({ line: 3 }))
    expect(await main(['replay', file, '--instance', 'segment', '--config', config])).toBe(0)
    expect(JSON.parse(stdout.join(''))).toMatchObject({
      lines: 5,
      skippedAlreadyDone: 3,
      sent: 2,
      delivered: 0,
      deadLettered: 2
    })
    const store = new SqliteStore({ stateDir: join(directory, 'state') })
    const letters = (await store.deadLetters({ limit: 10 })).deadLetters.reverse()
    await store.close()
    expect(letters.map((letter) => letter.eventId)).toStrictEqual(['resume-3', 'resume-4'])
    expect(letters[0]?.reason).toMatch(/^Segment rejected the request \(HTTP 400\)/)
  })

  it('refuses an unknown instance', async () => {
    expect(await main(['replay', join(directory, 'x.ndjson'), '--instance', 'nope'])).toBe(2)
    expect(stderr.join('')).toContain('no destination instance "nope"')
  })
})

describe('open-actions backup', () => {
  it('copies the store while the runtime runs, into a store that opens with everything accepted', async () => {
    const config = writeConfig({
      sandbox: { faults: [{ host: 'api.segment.io', delayMs: 60_000 }] },
      shutdownTimeoutMs: 100
    })
    const runtime = await OpenActionsRuntime.open({ resolved: loadConfig(config), registry, logWrite: () => undefined })
    try {
      await runtime.ingestEvents([events.trackEvent('Backed Up', {}, { messageId: 'backup-1' })])
      const copy = join(directory, 'copy', 'state.db')
      mkdirSync(join(directory, 'copy'))
      expect(await main(['backup', copy, '--config', config])).toBe(0)
      expect(stdout.join('')).toMatch(/state\.db → .*copy\/state\.db \(\d+ pages\)/)
      const restored = new SqliteStore({ stateDir: join(directory, 'copy') })
      const result = await restored.eventResult('backup-1')
      await restored.close()
      expect(result?.targets.map((target) => target.instance).sort()).toStrictEqual([
        'insider',
        'moengage',
        'onesignal',
        'segment',
        'tray'
      ])
    } finally {
      await runtime.close()
    }
    expect(await main(['backup'])).toBe(2)
    expect(stderr.join('')).toContain('open-actions: backup takes 1 file argument(s), got 0')
  })
})

describe('the command line, strictly', () => {
  it('takes --name value and --name=value, and repeated --allowed-host', () => {
    expect(
      parseCommandLine([
        'start',
        '--port=80',
        '--host',
        '0.0.0.0',
        '--allowed-host',
        'a.example',
        '--allowed-host=b.example'
      ])
    ).toEqual({
      command: 'start',
      files: [],
      values: { port: '80', host: '0.0.0.0', 'allowed-host': ['a.example', 'b.example'] }
    })
    expect(parseCommandLine(['replay', 'events.ndjson', '--instance', 'tray', '--from-start'])).toMatchObject({
      command: 'replay',
      files: ['events.ndjson'],
      values: { instance: 'tray', 'from-start': true }
    })
    expect(parseCommandLine([])).toBe('help')
    expect(parseCommandLine(['send', 'x.json', '--help'])).toBe('help')
  })

  it('refuses unknown commands and options, and wrong numbers of files, naming them', () => {
    expect(() => parseCommandLine(['strat'])).toThrow(
      new UsageError('unknown command "strat" (commands: start, send, replay, validate, backup)')
    )
    expect(() => parseCommandLine(['send', 'x.json', '--instnace', 'tray'])).toThrow(
      new UsageError('send: unknown option --instnace (options: --config, --instance)')
    )
    expect(() => parseCommandLine(['validate', 'a.json', 'b.json'])).toThrow(
      new UsageError('validate takes 0 to 1 file argument(s), got 2: a.json b.json')
    )
    expect(() => parseCommandLine(['replay', 'x.ndjson', '--from-start=yes'])).toThrow(UsageError)
  })

  it('exits 2 with one line for a usage error', async () => {
    expect(await main(['start', '--prot', '80'])).toBe(2)
    expect(stderr.join('')).toBe(
      'open-actions: start: unknown option --prot (options: --config, --host, --port, --allowed-host, --role, --queue)\n'
    )
  })

  it('refuses a role or a queue it cannot run, naming what it takes', async () => {
    expect(await main(['start', '--role', 'reader'])).toBe(2)
    expect(await main(['start', '--queue', 'http://127.0.0.1:6379'])).toBe(2)
    expect(await main(['start', '--role', 'api'])).toBe(2)
    expect(stderr.join('').split('\n')).toStrictEqual([
      'open-actions: --role must be one of all, api, worker (got "reader")',
      'open-actions: --queue must be a redis://, rediss://, postgres:// or postgresql:// URL (e.g. redis://127.0.0.1:6379)',
      'open-actions: --role api needs a queue shared by processes ("queue": {"kind": "redis" or "postgres", "url": …}, --queue or OPEN_ACTIONS_QUEUE); the embedded store is one process that accepts and delivers',
      ''
    ])
  })
})
