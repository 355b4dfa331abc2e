import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RuntimeConfigInput } from './config'
import { resolveConfig } from './config'
import { sampleConfig } from './sample-config'
import { registry, startRuntime, type StartedRuntime } from './start'

/** Every secret of the sample configuration: none may appear in anything the runtime shows. */
export const SAMPLE_SECRETS = [
  'sandbox-insider-ucd-key',
  'sandbox-moengage-data-key',
  'sandbox-onesignal-app-key',
  'sandbox-segment-write-key',
  'sandbox-tray-shared-secret',
  'sandbox-onesignal-source-write-key',
  'sandbox-one-creation-write-key',
  'sandbox-one-creation-token'
]

/** A runtime on a free loopback port with the sample configuration, fast retries and its own dead-letter file. */
export async function startTestRuntime(
  overrides: Partial<RuntimeConfigInput> = {}
): Promise<StartedRuntime & { logs: string[] }> {
  const deadLetterFile = join(mkdtempSync(join(tmpdir(), 'open-actions-test-')), 'dead-letters.ndjson')
  const resolved = resolveConfig(
    {
      ...sampleConfig,
      deadLetterFile,
      delivery: { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 50 },
      batching: { maxEvents: 100, maxBytes: 1024 * 1024, maxWaitMs: 20 },
      ...overrides
    },
    registry
  )
  const logs: string[] = []
  const started = await startRuntime({ resolved, port: 0, logLevel: 'debug', logWrite: (line) => logs.push(line) })
  return Object.assign(started, { logs })
}

export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {}
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body)
  })
  return { status: response.status, body: await response.json() }
}

export async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url)
  return { status: response.status, body: await response.json() }
}
