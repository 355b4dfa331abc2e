#!/usr/bin/env node
import { createReadStream, existsSync, readFileSync, rmSync, writeFileSync, appendFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { SegmentEvent } from '@segment/actions-core'
import Database from 'better-sqlite3'
import { ConfigError, resolveConfig } from './config'
import { EventValidationError, validateEvent } from './ingest/validate-events'
import type { LogLevel } from './logger'
import { OpenActionsRuntime } from './runtime'
import { StateDirInUseError } from './store/state-dir'
import { DEFAULT_HOST, DEFAULT_PORT, loadConfig, registry, StartError, startRuntime } from './start'

const USAGE = `open-actions <command>

  start    [--config <file>] [--host ${DEFAULT_HOST}] [--port ${DEFAULT_PORT}]
           Start the runtime (embedded sample configuration, sandbox mode, when no --config).
  send     <event.json> [--config <file>] [--instance <id>]
           Run an event (or an array) through the sandbox and print the requests it would send.
  replay   <events.ndjson> --instance <id> [--config <file>] [--from-start]
           Deliver a file of Segment events to one destination instance, with progress; resumable.
  validate [<config.json>]
           Check a configuration and print every problem.
  backup   <file> [--config <file>]
           An online, consistent copy of the store (safe while the runtime runs).

Environment: PORT, HOST, OPEN_ACTIONS_TOKEN (required when HOST is not loopback), LOG_LEVEL (debug|info|warn|error).`

interface Arguments {
  readonly positional: string[]
  readonly flags: Map<string, string | true>
}

function parseArguments(argv: readonly string[]): Arguments {
  const positional: string[] = []
  const flags = new Map<string, string | true>()
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index] ?? ''
    if (!arg.startsWith('--')) {
      positional.push(arg)
      continue
    }
    const next = argv[index + 1]
    if (next !== undefined && !next.startsWith('--')) {
      flags.set(arg.slice(2), next)
      index += 1
    } else flags.set(arg.slice(2), true)
  }
  return { positional, flags }
}

function flag(args: Arguments, name: string): string | undefined {
  const value = args.flags.get(name)
  return typeof value === 'string' ? value : undefined
}

function logLevel(): LogLevel {
  const level = process.env.LOG_LEVEL
  return level === 'debug' || level === 'warn' || level === 'error' ? level : 'info'
}

async function start(args: Arguments): Promise<void> {
  const resolved = loadConfig(flag(args, 'config'))
  const portText = flag(args, 'port') ?? process.env.PORT ?? String(DEFAULT_PORT)
  const port = /^\d+$/.test(portText) ? Number(portText) : Number.NaN
  const host = flag(args, 'host') ?? process.env.HOST ?? DEFAULT_HOST
  const started = await startRuntime({
    resolved,
    host,
    port,
    ...(process.env.OPEN_ACTIONS_TOKEN ? { token: process.env.OPEN_ACTIONS_TOKEN } : {}),
    logLevel: logLevel()
  })
  started.runtime.logger.info('open-actions runtime started', {
    url: started.url,
    transport: resolved.config.transport,
    destinations: resolved.destinations.map((destination) => destination.id),
    sources: resolved.sources.map((source) => source.id)
  })
  process.stderr.write(
    `\nOpen Actions runtime on ${started.url} (${resolved.config.transport} mode). Web page: ${started.url}/\n\n`
  )
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) {
      // A second signal: the operator wants out now. The store keeps whatever is unfinished.
      process.exit(1)
    }
    stopping = true
    started.runtime.logger.info('stopping', { signal })
    void started.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`open-actions: stopping failed: ${(error as Error).message}\n`)
        process.exit(1)
      }
    )
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
}

/** A runtime for one-off commands, on a temporary state directory (removed afterwards). */
async function oneOffRuntime(
  configFile: string | undefined,
  overrides: { transport?: 'sandbox' } = {}
): Promise<{ runtime: OpenActionsRuntime; dispose(): Promise<void> }> {
  const base = loadConfig(configFile, overrides)
  const stateDir = mkdtempSync(join(tmpdir(), 'open-actions-'))
  const { deadLetterFile: _ignored, ...config } = base.config
  const resolved = resolveConfig({ ...config, stateDir }, registry)
  const runtime = await OpenActionsRuntime.open({
    resolved,
    registry,
    logLevel: 'error',
    logWrite: (line) => process.stderr.write(line)
  })
  return {
    runtime,
    async dispose() {
      await runtime.close()
      rmSync(stateDir, { recursive: true, force: true })
    }
  }
}

async function send(args: Arguments): Promise<void> {
  const file = args.positional[1]
  if (!file) throw new UsageError('send needs an event file')
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'))
  const events = (Array.isArray(parsed) ? parsed : [parsed]).map((event, index) =>
    validateEvent(event, `event ${index}`)
  )
  const { runtime, dispose } = await oneOffRuntime(flag(args, 'config'), { transport: 'sandbox' })
  try {
    const instance = flag(args, 'instance')
    const accepted = await runtime.ingestEvents(events)
    await runtime.drain()
    const results = await Promise.all(accepted.map(async (result) => (await runtime.result(result.eventId)) ?? result))
    const requests = runtime.recorder.list({ limit: 1000, ...(instance ? { instance } : {}) }).reverse()
    process.stdout.write(
      `${JSON.stringify({ results: instance ? results.map((result) => ({ ...result, targets: result.targets.filter((target) => target.instance === instance) })) : results, requests }, null, 2)}\n`
    )
  } finally {
    await dispose()
  }
}

function progressBar(done: number, total: number): string {
  const width = 30
  const ratio = total === 0 ? 1 : Math.min(1, done / total)
  const filled = Math.round(ratio * width)
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${(ratio * 100).toFixed(0)}%`
}

function countLines(file: string): number {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '').length
}

async function replay(args: Arguments): Promise<void> {
  const file = args.positional[1]
  const instanceId = flag(args, 'instance')
  if (!file || !instanceId) throw new UsageError('replay needs an NDJSON file and --instance <id>')
  const configFile = flag(args, 'config')
  const base = loadConfig(configFile)
  if (!base.destinations.some((destination) => destination.id === instanceId)) {
    throw new UsageError(
      `no destination instance "${instanceId}" (instances: ${base.destinations.map((destination) => destination.id).join(', ')})`
    )
  }
  // The whole configuration, so deliveries of other instances waiting in the same state directory keep theirs.
  const runtime = await OpenActionsRuntime.open({
    resolved: base,
    registry,
    logLevel: 'error',
    logWrite: (line) => process.stderr.write(line)
  })
  const only = new Set([instanceId])
  const checkpointFile = `${file}.progress.json`
  const rejectedFile = `${file}.rejected.ndjson`
  const resumeFrom =
    !args.flags.has('from-start') && existsSync(checkpointFile)
      ? (JSON.parse(readFileSync(checkpointFile, 'utf8')) as { line: number }).line
      : 0
  const total = countLines(file)
  const started = Date.now()
  const summary = { lines: 0, skippedAlreadyDone: 0, sent: 0, delivered: 0, deadLettered: 0, invalid: 0 }
  const chunk: SegmentEvent[] = []
  let line = 0

  const sendChunk = async () => {
    if (chunk.length === 0) return
    const results = await runtime.ingest.events(chunk.splice(0), { instances: only })
    // Committed to the store: from here a crash cannot lose these lines, so the checkpoint may move past them.
    summary.sent += results.length
    writeFileSync(checkpointFile, JSON.stringify({ line }))
    process.stderr.write(`\r${progressBar(line, total)}`)
  }

  try {
    for await (const text of createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })) {
      if (text.trim() === '') continue
      line += 1
      summary.lines += 1
      if (line <= resumeFrom) {
        summary.skippedAlreadyDone += 1
        continue
      }
      let event: unknown
      try {
        event = JSON.parse(text)
      } catch (error) {
        event = undefined
        appendFileSync(
          rejectedFile,
          `${JSON.stringify({ line, reason: `not JSON: ${(error as Error).message}`, text: text.slice(0, 2000) })}\n`
        )
      }
      if (event !== undefined) {
        try {
          event = validateEvent(event, `line ${line}`)
        } catch (error) {
          if (!(error instanceof EventValidationError)) throw error
          appendFileSync(rejectedFile, `${JSON.stringify({ line, reason: error.message })}\n`)
          event = undefined
        }
      }
      if (event === undefined) {
        summary.invalid += 1
        continue
      }
      chunk.push(event as SegmentEvent)
      if (chunk.length >= 100) await sendChunk()
    }
    await sendChunk()
    await runtime.drain({ timeoutMs: Number.MAX_SAFE_INTEGER })
    summary.delivered = runtime.totals.delivered
    summary.deadLettered = runtime.totals.deadLettered
    rmSync(checkpointFile, { force: true })
  } finally {
    await runtime.close()
  }
  const seconds = (Date.now() - started) / 1000
  process.stderr.write(`\r${progressBar(total, total)}\n`)
  process.stdout.write(
    `${JSON.stringify({ ...summary, seconds: Number(seconds.toFixed(2)), eventsPerSecond: Math.round(summary.sent / Math.max(seconds, 0.001)), stateDir: runtime.store.files.stateDir, ...(summary.invalid > 0 ? { rejectedFile } : {}) }, null, 2)}\n`
  )
}

function validateCommand(args: Arguments): void {
  const file = args.positional[1]
  const resolved = loadConfig(file)
  process.stdout.write(
    `${file ?? 'the embedded sample configuration'} is valid: ${resolved.destinations.length} destination instance(s) (${resolved.destinations.map((destination) => destination.id).join(', ')}), ${resolved.sources.length} source(s), ${resolved.config.transport} transport\n`
  )
}

/** An online copy through SQLite's backup API: a reader, so it works beside the running runtime. */
async function backupCommand(args: Arguments): Promise<void> {
  const file = args.positional[1]
  if (!file) throw new UsageError('backup needs a file to write the copy to')
  const { stateDir } = loadConfig(flag(args, 'config')).config
  const database = join(stateDir, 'state.db')
  if (!existsSync(database)) throw new UsageError(`no store at ${database}`)
  const source = new Database(database, { readonly: true, fileMustExist: true })
  try {
    const { totalPages } = await source.backup(file)
    process.stdout.write(`${database} → ${file} (${totalPages} pages)\n`)
  } finally {
    source.close()
  }
}

class UsageError extends Error {}

export async function main(argv: readonly string[]): Promise<number> {
  const args = parseArguments(argv)
  const command = args.positional[0]
  try {
    if (command === 'start') await start(args)
    else if (command === 'send') await send(args)
    else if (command === 'replay') await replay(args)
    else if (command === 'validate') validateCommand(args)
    else if (command === 'backup') await backupCommand(args)
    else {
      process.stdout.write(`${USAGE}\n`)
      return command === undefined || command === 'help' || args.flags.has('help') ? 0 : 2
    }
    return 0
  } catch (error) {
    if (error instanceof ConfigError && command === 'start') {
      // A start that cannot run says why on one line.
      process.stderr.write(`open-actions: Invalid configuration ${error.file}: ${error.problems.join('; ')}\n`)
      return 2
    }
    if (
      error instanceof ConfigError ||
      error instanceof UsageError ||
      error instanceof StartError ||
      error instanceof StateDirInUseError ||
      error instanceof EventValidationError
    ) {
      process.stderr.write(`open-actions: ${error.message}\n`)
      return 2
    }
    // Unexpected: still one line for the operator; the stack only when asked for (LOG_LEVEL=debug).
    process.stderr.write(
      `open-actions: ${process.env.LOG_LEVEL === 'debug' ? ((error as Error).stack ?? String(error)) : ((error as Error).message ?? String(error))}\n`
    )
    return 1
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    if (code !== 0 || process.argv[2] !== 'start') process.exitCode = code
  })
}
