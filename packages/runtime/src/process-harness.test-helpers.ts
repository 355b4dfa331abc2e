import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
// The factories alone: the package index loads nock, which patches http.ClientRequest.
import * as events from '@open-actions/testing/events'
import type { RuntimeConfigInput } from './config'
import { sampleConfig } from './sample-config'

/** The built CLI, as operators run it (`open-actions` is this file). */
export const CLI = join(__dirname, '..', 'dist', 'cli.js')

export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build the runtime first (turbo runs build before test)`)
}

export function scratchDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export interface RuntimeProcess {
  readonly child: ChildProcess
  readonly url: string
  readonly stdout: string[]
  readonly stderr: string[]
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Every vendor host of the sample configuration, for faults that slow or fail them all. */
export const SAMPLE_VENDOR_HOSTS = [
  'unification.useinsider.com',
  'api-01.moengage.com',
  'api.onesignal.com',
  'api.segment.io',
  '*.trayapp.io'
] as const

/** The sample configuration with a state directory, fast retries and short batching, plus `overrides`. */
export function processConfig(stateDir: string, overrides: Partial<RuntimeConfigInput> = {}): RuntimeConfigInput {
  return {
    ...sampleConfig,
    stateDir,
    delivery: { baseDelayMs: 50, maxDelayMs: 500, retryForMs: 120_000 },
    batching: { maxEvents: 100, maxBytes: 1024 * 1024, maxWaitMs: 50 },
    shutdownTimeoutMs: 2000,
    ...overrides
  }
}

/** Runs `open-actions` as a separate process and collects its output. */
export function runCli(
  args: readonly string[],
  options: { readonly cwd?: string; readonly env?: NodeJS.ProcessEnv } = {}
) {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? tmpdir(),
    env: { ...process.env, LOG_LEVEL: 'warn', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const stdout: string[] = []
  const stderr: string[] = []
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk.toString('utf8')))
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal }))
  )
  return { child, stdout, stderr, exited }
}

/**
 * Starts `open-actions start` with this configuration on a port the system picks (`--port 0`: no race with other
 * tests for a port found free a moment earlier); resolves, with the URL it printed, once `/health` answers.
 */
export async function spawnRuntime(
  config: RuntimeConfigInput,
  directory: string,
  options: { readonly args?: readonly string[]; readonly env?: NodeJS.ProcessEnv } = {}
): Promise<RuntimeProcess> {
  const file = join(directory, `config-${Date.now()}-${Math.random().toString(16).slice(2)}.json`)
  writeFileSync(file, JSON.stringify(config))
  const run = runCli(['start', '--config', file, '--port', '0', ...(options.args ?? [])], {
    cwd: directory,
    env: { LOG_LEVEL: 'info', ...options.env }
  })
  const deadline = Date.now() + 30_000
  for (;;) {
    const state = await Promise.race([
      run.exited.then(() => 'exited' as const),
      delay(50).then(() => 'running' as const)
    ])
    if (state === 'exited') throw new Error(`the runtime exited at start: ${run.stderr.join('')}`)
    const url = /Open Actions (?:runtime|worker) on (http:\/\/[^ ]+) /.exec(run.stderr.join(''))?.[1]
    if (url !== undefined) {
      try {
        const response = await fetch(`${url}/health`)
        await response.text()
        return { ...run, url }
      } catch {
        // Listening, not answering yet.
      }
    }
    if (Date.now() > deadline) throw new Error(`the runtime did not answer within 30 s: ${run.stderr.join('')}`)
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs` naming `what`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await delay(50)
  }
}

export async function json<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T; headers: Headers }> {
  const response = await fetch(url, init)
  return { status: response.status, body: (await response.json()) as T, headers: response.headers }
}

export function postEvents(url: string, events: unknown): Promise<{ status: number; body: unknown; headers: Headers }> {
  return json(`${url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(events)
  })
}

/** Waits until the runtime has no delivery left to make (delivered or dead-lettered, all of them). */
export async function waitForEmptyBacklog(url: string, timeoutMs = 90_000): Promise<void> {
  await waitFor(
    'an empty backlog',
    async () => {
      const health = await json<{ backlog: number }>(`${url}/health`)
      return health.body.backlog === 0 ? true : undefined
    },
    timeoutMs
  )
}

/** `count` events, identifies and tracks in turn, with message ids `<prefix>-<n>`. */
export function eventBatch(prefix: string, count: number, eventName = 'Durability Checked') {
  return Array.from({ length: count }, (_, index) =>
    index % 2 === 0
      ? events.identifyEvent({ messageId: `${prefix}-${index}`, userId: `user-${index}` })
      : events.trackEvent(eventName, { n: index }, { messageId: `${prefix}-${index}`, userId: `user-${index}` })
  )
}

/** Accepts `count` events in requests of 100 (each must be answered 202) and returns their message ids. */
export async function acceptAll(url: string, prefix: string, count: number, eventName?: string): Promise<string[]> {
  const batch = eventBatch(prefix, count, eventName)
  for (let start = 0; start < batch.length; start += 100) {
    const response = await postEvents(url, batch.slice(start, start + 100))
    if (response.status !== 202) throw new Error(`POST /v1/events answered ${response.status}`)
  }
  return batch.map((event) => event.messageId ?? '')
}
