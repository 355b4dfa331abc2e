#!/usr/bin/env node
import { createReadStream, existsSync, readFileSync, rmSync, writeFileSync, appendFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { SegmentEvent } from '@segment/actions-core'
import { ConfigError, resolveConfig } from './config'
import type { LogLevel } from './logger'
import { OpenActionsRuntime } from './runtime'
import { DEFAULT_HOST, DEFAULT_PORT, loadConfig, registry, startRuntime } from './start'

const USAGE = `open-actions <command>

  start    [--config <file>] [--host ${DEFAULT_HOST}] [--port ${DEFAULT_PORT}]
           Start the runtime (embedded sample configuration, sandbox mode, when no --config).
  send     <event.json> [--config <file>] [--instance <id>]
           Run an event (or an array) through the sandbox and print the requests it would send.
  replay   <events.ndjson> --instance <id> [--config <file>] [--from-start]
           Deliver a file of Segment events to one destination instance, with progress; resumable.
  validate [<config.json>]
           Check a configuration and print every problem.

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
  const port = Number(flag(args, 'port') ?? process.env.PORT ?? DEFAULT_PORT)
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
  const stop = () => {
    started.runtime.logger.info('stopping')
    void started.stop().then(() => process.exit(0))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

/** A runtime for one-off commands: its dead letters go to a temporary file unless the configuration names one. */
function oneOffRuntime(configFile: string | undefined, overrides: { transport?: 'sandbox' } = {}): OpenActionsRuntime {
  const base = loadConfig(configFile, overrides)
  const deadLetterFile = configFile
    ? base.config.deadLetterFile
    : join(mkdtempSync(join(tmpdir(), 'open-actions-')), 'dead-letters.ndjson')
  const resolved = resolveConfig({ ...base.config, deadLetterFile }, registry)
  return new OpenActionsRuntime({
    resolved,
    registry,
    logLevel: 'error',
    logWrite: (line) => process.stderr.write(line)
  })
}

async function send(args: Arguments): Promise<void> {
  const file = args.positional[1]
  if (!file) throw new UsageError('send needs an event file')
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'))
  const events = (Array.isArray(parsed) ? parsed : [parsed]) as SegmentEvent[]
  const runtime = oneOffRuntime(flag(args, 'config'), { transport: 'sandbox' })
  try {
    const instance = flag(args, 'instance')
    const results = await runtime.ingest(events)
    await runtime.pipeline.flush()
    const requests = runtime.recorder.list({ limit: 1000, ...(instance ? { instance } : {}) }).reverse()
    process.stdout.write(
      `${JSON.stringify({ results: instance ? results.map((result) => ({ ...result, targets: result.targets.filter((target) => target.instance === instance) })) : results, requests }, null, 2)}\n`
    )
  } finally {
    await runtime.close()
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
  const resolved = { ...base, destinations: base.destinations.filter((destination) => destination.id === instanceId) }
  const runtime = new OpenActionsRuntime({
    resolved,
    registry,
    logLevel: 'error',
    logWrite: (line) => process.stderr.write(line)
  })
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
    const results = await runtime.ingest(chunk.splice(0))
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
      if (
        event !== undefined &&
        (typeof event !== 'object' || event === null || typeof (event as { type?: unknown }).type !== 'string')
      ) {
        appendFileSync(
          rejectedFile,
          `${JSON.stringify({ line, reason: 'not a Segment event: an object with a string "type" is expected' })}\n`
        )
        event = undefined
      }
      if (event === undefined) {
        summary.invalid += 1
        continue
      }
      chunk.push(event as SegmentEvent)
      if (chunk.length >= 100) await sendChunk()
    }
    await sendChunk()
    await runtime.pipeline.drain()
    summary.delivered = runtime.pipeline.totals.delivered
    summary.deadLettered = runtime.pipeline.totals.deadLettered
    rmSync(checkpointFile, { force: true })
  } finally {
    await runtime.close()
  }
  const seconds = (Date.now() - started) / 1000
  process.stderr.write(`\r${progressBar(total, total)}\n`)
  process.stdout.write(
    `${JSON.stringify({ ...summary, seconds: Number(seconds.toFixed(2)), eventsPerSecond: Math.round(summary.sent / Math.max(seconds, 0.001)), deadLetterFile: resolved.config.deadLetterFile, ...(summary.invalid > 0 ? { rejectedFile } : {}) }, null, 2)}\n`
  )
}

function validateCommand(args: Arguments): void {
  const file = args.positional[1]
  const resolved = loadConfig(file)
  process.stdout.write(
    `${file ?? 'the embedded sample configuration'} is valid: ${resolved.destinations.length} destination instance(s) (${resolved.destinations.map((destination) => destination.id).join(', ')}), ${resolved.sources.length} source(s), ${resolved.config.transport} transport\n`
  )
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
    else {
      process.stdout.write(`${USAGE}\n`)
      return command === undefined || command === 'help' || args.flags.has('help') ? 0 : 2
    }
    return 0
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError) {
      process.stderr.write(`${error.message}\n`)
      return 2
    }
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`)
    return 1
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    if (code !== 0 || process.argv[2] !== 'start') process.exitCode = code
  })
}
