import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { request as httpRequest } from 'node:http'
import { join } from 'node:path'
import type { RuntimeConfigInput } from './config'
import { ConfigError, resolveConfig } from './config'
import { sampleConfig } from './sample-config'
import { registry, startRuntime, type StartedRuntime } from './start'

/** Every secret of the sample configuration: none may appear in anything the runtime shows. */
export const SAMPLE_SECRETS = [
  'sandbox-insider-ucd-key',
  'sandbox-moengage-data-key',
  'sandbox-onesignal-app-key',
  'sandbox-segment-write-key',
  'sandbox-tray-shared-secret',
  'sandbox-tracking-write-key',
  'sandbox-onesignal-source-write-key',
  'sandbox-one-creation-write-key',
  'sandbox-one-creation-token'
]

/** The problems `resolveConfig` reports for a configuration (none: it resolves), as a file `runtime.json` would. */
export function configProblems(raw: unknown): readonly string[] {
  try {
    resolveConfig(raw, registry, 'runtime.json')
  } catch (error) {
    if (error instanceof ConfigError) return error.problems
    throw error
  }
  return []
}

/** A fresh state directory under the system's temporary directory. */
export function temporaryStateDir(prefix = 'open-actions-test-'): string {
  return join(mkdtempSync(join(tmpdir(), prefix)), 'state')
}

/** A runtime on a free loopback port with the sample configuration, fast retries and its own state directory. */
export async function startTestRuntime(
  overrides: Partial<RuntimeConfigInput> = {}
): Promise<StartedRuntime & { logs: string[] }> {
  const resolved = resolveConfig(
    {
      ...sampleConfig,
      stateDir: temporaryStateDir(),
      delivery: { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 50 },
      batching: { maxEvents: 100, maxBytes: 1024 * 1024, maxWaitMs: 20 },
      // Tests that hold vendors answering for a minute stop at once; what is unfinished stays in the store.
      shutdownTimeoutMs: 200,
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

export interface Answer {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: string
}

/** One request over node:http, so a test can send any Host, Origin, encoding or chunked body a client could. */
export function call(
  base: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string | Buffer; chunks?: readonly (string | Buffer)[] } = {}
): Promise<Answer> {
  const url = new URL(path, base)
  return new Promise((resolve, reject) => {
    const sent = httpRequest(
      { host: url.hostname, port: url.port, method, path, headers: { host: url.host, ...options.headers } },
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8')
          })
        )
      }
    )
    sent.on('error', reject)
    if (options.chunks) {
      for (const chunk of options.chunks) sent.write(chunk)
      sent.end()
    } else sent.end(options.body)
  })
}
