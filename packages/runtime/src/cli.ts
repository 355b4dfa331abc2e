#!/usr/bin/env node
import { createReadStream, existsSync, readFileSync, rmSync, writeFileSync, appendFileSync, mkdtempSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import type { SegmentEvent } from '@segment/actions-core'
import Database from 'better-sqlite3'
import { ConfigError, readConfigFile, resolveConfig, type RuntimeConfigInput } from './config'
import { EventValidationError, validateEvent } from './ingest/validate-events'
import { LOG_LEVELS, type LogLevel } from './logger'
import { OpenActionsRuntime, RoleError, type RuntimeRole } from './runtime'
import { ConfigurationMismatchError } from './store/redis-store'
import { SqliteStore } from './store/sqlite-store'
import { StateDirInUseError } from './store/state-dir'
import { DEFAULT_HOST, DEFAULT_PORT, loadConfig, registry, StartError, startRuntime } from './start'

const USAGE = `open-actions <command>

  start    [--config <file>] [--host ${DEFAULT_HOST}] [--port ${DEFAULT_PORT}] [--allowed-host <name>]...
           [--role all|api|worker] [--queue redis://host:port | postgres://user@host/db]
           Start the runtime (embedded sample configuration, sandbox mode, when no --config).
           --queue shares accepted events through Redis or PostgreSQL (BullMQ) with other processes; --role api only accepts,
           --role worker only delivers (it serves /health and /metrics), all (default) does both.
  send     <event.json> [--config <file>] [--instance <id>]
           Run an event (or an array) through the sandbox and print the requests it would send.
  replay   <events.ndjson> --instance <id> [--config <file>] [--from-start]
           Deliver a file of Segment events to one destination instance, with progress; resumable.
  validate [<config.json>]
           Check a configuration and print every problem.
  backup   <file> [--config <file>]
           An online, consistent copy of the store (safe while the runtime runs).

Options take "--name value" or "--name=value"; an unknown option is an error.
Environment: PORT, HOST, OPEN_ACTIONS_QUEUE (as --queue), OPEN_ACTIONS_ROLE (as --role), OPEN_ACTIONS_WORKER_NAME
(this process among the workers, stable across restarts; default host-role-port), OPEN_ACTIONS_TOKEN (required when HOST is not loopback), OPEN_ACTIONS_METRICS_TOKEN (reads
/metrics only), OPEN_ACTIONS_ALLOWED_HOSTS (comma-separated names for Host), LOG_LEVEL (debug|info|warn|error).
Configuration strings may reference the environment: "\${NAME}".`

type OptionSpec = { readonly type: 'string' | 'boolean'; readonly multiple?: boolean }

/** Each command's options and how many file arguments it takes. */
const COMMANDS: Readonly<
  Record<string, { readonly options: Readonly<Record<string, OptionSpec>>; readonly files: readonly [number, number] }>
> = {
  start: {
    options: {
      config: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'allowed-host': { type: 'string', multiple: true },
      role: { type: 'string' },
      queue: { type: 'string' }
    },
    files: [0, 0]
  },
  send: { options: { config: { type: 'string' }, instance: { type: 'string' } }, files: [1, 1] },
  replay: {
    options: { config: { type: 'string' }, instance: { type: 'string' }, 'from-start': { type: 'boolean' } },
    files: [1, 1]
  },
  validate: { options: {}, files: [0, 1] },
  backup: { options: { config: { type: 'string' } }, files: [1, 1] }
}

interface Arguments {
  readonly command: string
  /** The command's file arguments. */
  readonly files: string[]
  readonly values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>
}

/**
 * The command line, strictly (`node:util` parseArgs): an option the command does not take, a missing value or a wrong
 * number of file arguments is a usage error naming it, never silently ignored.
 */
export function parseCommandLine(argv: readonly string[]): Arguments | 'help' {
  const [command, ...rest] = argv
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') return 'help'
  const spec = COMMANDS[command]
  if (!spec) throw new UsageError(`unknown command "${command}" (commands: ${Object.keys(COMMANDS).join(', ')})`)
  if (rest.includes('--help') || rest.includes('-h')) return 'help'
  const names = Object.keys(spec.options)
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: [...rest], options: spec.options, allowPositionals: true, strict: true })
  } catch (error) {
    const found = /option '(--[^' ]+)/i.exec((error as Error).message)?.[1]
    const code = (error as { code?: string }).code
    const accepted = names.length > 0 ? names.map((name) => `--${name}`).join(', ') : 'none'
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
      throw new UsageError(`${command}: unknown option ${found ?? ''} (options: ${accepted})`)
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE')
      throw new UsageError(`${command}: option ${found ?? ''} needs a value`)
    throw new UsageError(`${command}: ${(error as Error).message.split('\n')[0]}`)
  }
  const [least, most] = spec.files
  if (parsed.positionals.length < least || parsed.positionals.length > most) {
    const expected = least === most ? `${least}` : `${least} to ${most}`
    throw new UsageError(
      `${command} takes ${expected} file argument(s), got ${parsed.positionals.length}${parsed.positionals.length > 0 ? `: ${parsed.positionals.join(' ')}` : ''}`
    )
  }
  return { command, files: parsed.positionals, values: parsed.values }
}

function strings(value: Arguments['values'][string]): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []
}

function flag(args: Arguments, name: string): string | undefined {
  const value = args.values[name]
  return typeof value === 'string' ? value : undefined
}

function logLevel(): LogLevel {
  const level = process.env.LOG_LEVEL
  if (level === undefined || level === '') return 'info'
  if (!(LOG_LEVELS as readonly string[]).includes(level))
    throw new UsageError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${level}")`)
  return level as LogLevel
}

const ROLES: readonly RuntimeRole[] = ['all', 'api', 'worker']

async function start(args: Arguments): Promise<void> {
  const role = flag(args, 'role') ?? process.env.OPEN_ACTIONS_ROLE ?? 'all'
  if (!(ROLES as readonly string[]).includes(role))
    throw new UsageError(`--role must be one of ${ROLES.join(', ')} (got "${role}")`)
  const queueUrl = flag(args, 'queue') ?? (process.env.OPEN_ACTIONS_QUEUE || undefined)
  if (queueUrl !== undefined && !/^(rediss?|postgres(ql)?):\/\/\S+$/.test(queueUrl))
    throw new UsageError(
      '--queue must be a redis://, rediss://, postgres:// or postgresql:// URL (e.g. redis://127.0.0.1:6379)'
    )
  const configFile = flag(args, 'config')
  // --queue replaces the file's queue URL; its namespace and lock duration stay.
  const raw = configFile === undefined ? {} : readConfigFile(configFile)
  const fileQueue = typeof raw === 'object' && raw !== null ? (raw as { queue?: unknown }).queue : undefined
  const keep =
    typeof fileQueue === 'object' && fileQueue !== null && (fileQueue as { kind?: unknown }).kind !== 'embedded'
      ? (fileQueue as Record<string, unknown>)
      : {}
  const resolved = loadConfig(
    configFile,
    queueUrl === undefined
      ? {}
      : {
          queue: {
            ...keep,
            kind: queueUrl.startsWith('redis') ? 'redis' : 'postgres',
            url: queueUrl
          } as RuntimeConfigInput['queue']
        }
  )
  const portText = flag(args, 'port') ?? process.env.PORT ?? String(DEFAULT_PORT)
  const port = /^\d+$/.test(portText) ? Number(portText) : Number.NaN
  const host = flag(args, 'host') ?? process.env.HOST ?? DEFAULT_HOST
  const allowedHosts = [
    ...(process.env.OPEN_ACTIONS_ALLOWED_HOSTS ?? '')
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== ''),
    ...strings(args.values['allowed-host'])
  ]
  const started = await startRuntime({
    resolved,
    host,
    port,
    allowedHosts,
    ...(process.env.OPEN_ACTIONS_TOKEN ? { token: process.env.OPEN_ACTIONS_TOKEN } : {}),
    ...(process.env.OPEN_ACTIONS_METRICS_TOKEN ? { metricsToken: process.env.OPEN_ACTIONS_METRICS_TOKEN } : {}),
    logLevel: logLevel(),
    role: role as RuntimeRole,
    // Stable across restarts on this machine, so a restarted worker takes back its deliveries in flight at once.
    workerName: process.env.OPEN_ACTIONS_WORKER_NAME || `${hostname()}-${role}-${port === 0 ? process.pid : port}`
  })
  started.runtime.logger.info('open-actions runtime started', {
    url: started.url,
    role,
    queue: resolved.config.queue.kind,
    transport: resolved.config.transport,
    destinations: resolved.destinations.map((destination) => destination.id),
    sources: resolved.sources.map((source) => source.id)
  })
  process.stderr.write(
    role === 'worker'
      ? `\nOpen Actions worker on ${started.url} (${resolved.config.transport} mode, queue on ${resolved.config.queue.kind === 'postgres' ? 'PostgreSQL' : 'Redis'}): ${started.url}/health and /metrics\n\n`
      : `\nOpen Actions runtime on ${started.url} (${resolved.config.transport} mode${role === 'api' ? ', API only' : ''}). Web page: ${started.url}/\n\n`
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
  // A one-off run keeps to itself: its own embedded store, whatever queue the configuration shares (so no rate limit
  // held across workers either). The configuration's own file, so packages it names resolve from its folder.
  const resolved = resolveConfig(
    {
      ...config,
      stateDir,
      queue: { kind: 'embedded' },
      destinations: config.destinations.map(({ rateLimit: _limit, ...instance }) => instance)
    },
    registry,
    configFile ?? '(embedded sample configuration)'
  )
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
  const [file = ''] = args.files
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
  const [file = ''] = args.files
  const instanceId = flag(args, 'instance')
  if (!instanceId) throw new UsageError('replay needs --instance <id>')
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
    args.values['from-start'] !== true && existsSync(checkpointFile)
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
    `${JSON.stringify({ ...summary, seconds: Number(seconds.toFixed(2)), eventsPerSecond: Math.round(summary.sent / Math.max(seconds, 0.001)), ...(runtime.store instanceof SqliteStore ? { stateDir: runtime.store.files.stateDir } : { queue: runtime.store.kind }), ...(summary.invalid > 0 ? { rejectedFile } : {}) }, null, 2)}\n`
  )
}

function validateCommand(args: Arguments): void {
  const [file] = args.files
  const resolved = loadConfig(file)
  process.stdout.write(
    `${file ?? 'the embedded sample configuration'} is valid: ${resolved.destinations.length} destination instance(s) (${resolved.destinations.map((destination) => destination.id).join(', ')}), ${resolved.sources.length} source(s), ${resolved.config.transport} transport\n`
  )
}

/** An online copy through SQLite's backup API: a reader, so it works beside the running runtime. */
async function backupCommand(args: Arguments): Promise<void> {
  const [file = ''] = args.files
  const { stateDir, queue } = loadConfig(flag(args, 'config')).config
  if (queue.kind !== 'embedded')
    throw new UsageError(
      `backup copies the embedded store; with "queue": {"kind": "${queue.kind}"} the state is in ${queue.kind === 'redis' ? 'Redis: back it up there (its append-only file, or BGSAVE)' : 'PostgreSQL: back it up there (pg_dump, or your base backups and WAL archive)'}`
    )
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

/** A mistake on the command line: one line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  const command = argv[0]
  try {
    const args = parseCommandLine(argv)
    if (args === 'help') {
      process.stdout.write(`${USAGE}\n`)
      return 0
    }
    if (args.command === 'start') await start(args)
    else if (args.command === 'send') await send(args)
    else if (args.command === 'replay') await replay(args)
    else if (args.command === 'validate') validateCommand(args)
    else await backupCommand(args)
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
      error instanceof EventValidationError ||
      error instanceof RoleError ||
      error instanceof ConfigurationMismatchError
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
