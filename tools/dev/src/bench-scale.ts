import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { sampleConfig } from '@open-actions/runtime'
import { startPostgresServer, startRedisServer } from '@open-actions/testing/servers'
import { runTool, ToolUsageError, toolArguments } from './cli-args'

/**
 * Past one machine, measured on each shared queue: a real redis-server and a real PostgreSQL, the built CLI as one API
 * process and 1, 2, 4 worker processes (sandbox vendors, every destination of the sample configuration), N events
 * posted through the API, timed until the API's backlog is empty; the server's own counters give its work per event
 * (Redis: commands and bytes in; PostgreSQL: transactions and WAL bytes). Figures are reported, not asserted.
 */

const CLI = join(dirname(require.resolve('@open-actions/runtime/package.json')), 'dist', 'cli.js')

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** What the server did, from its own counters: Redis commands and network bytes; PostgreSQL transactions and WAL. */
function serverCounters(backend: Backend, port: number): Record<string, number> {
  if (backend === 'redis') {
    const text = execFileSync('redis-cli', ['-p', String(port), 'info', 'all'], { encoding: 'utf8' })
    const values: Record<string, number> = {}
    for (const line of text.split('\n')) {
      const [key, value] = line.trim().split(':')
      if (key && value !== undefined && /^\d+(\.\d+)?$/.test(value)) values[key] = Number(value)
    }
    return {
      operations: values.total_commands_processed ?? 0,
      bytesIn: values.total_net_input_bytes ?? 0,
      bytesOut: values.total_net_output_bytes ?? 0,
      cpu: (values.used_cpu_sys ?? 0) + (values.used_cpu_user ?? 0)
    }
  }
  const text = execFileSync(
    'psql',
    [
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-U',
      'postgres',
      '-d',
      'postgres',
      '-Atc',
      "SELECT xact_commit + xact_rollback, pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0') FROM pg_stat_database WHERE datname = 'postgres'"
    ],
    { encoding: 'utf8' }
  )
  const [transactions = '0', wal = '0'] = text.trim().split('|')
  return { operations: Number(transactions), bytesIn: Number(wal), bytesOut: 0, cpu: 0 }
}

type Backend = 'redis' | 'postgres'

async function startProcess(args: string[], cwd: string, name: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...process.env, LOG_LEVEL: 'error', OPEN_ACTIONS_WORKER_NAME: name },
    stdio: ['ignore', 'ignore', 'pipe']
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const deadline = Date.now() + 30_000
  for (;;) {
    const url = /Open Actions (?:runtime|worker) on (http:\/\/[^ ]+) /.exec(stderr)?.[1]
    if (url) return { child, url }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${name} did not start: ${stderr}`)
    await delay(50)
  }
}

function event(index: number, run: string) {
  return index % 2 === 0
    ? {
        type: 'identify',
        userId: `user-${index % 5000}`,
        messageId: `${run}-${index}`,
        traits: { email: `u${index}@example.com`, plan: 'pro' }
      }
    : {
        type: 'track',
        event: 'Order Completed',
        userId: `user-${index % 5000}`,
        messageId: `${run}-${index}`,
        properties: {
          order_id: `o-${index}`,
          total: 42.5,
          currency: 'USD',
          products: [{ product_id: 'p-1', name: 'Shoe', price: 42.5, quantity: 1 }]
        }
      }
}

async function main(): Promise<void> {
  const args = toolArguments('bench:scale', {
    events: { type: 'string' },
    workers: { type: 'string' },
    queue: { type: 'string' }
  })
  const total = args.number('events', 10_000)
  const counts = (args.string('workers') ?? '1,2,4').split(',').map(Number)
  if (counts.some((count) => !Number.isInteger(count) || count < 1))
    throw new ToolUsageError('bench:scale', '--workers takes whole numbers separated by commas, e.g. 1,2,4')
  const backends = (args.string('queue') ?? 'redis,postgres').split(',')
  if (backends.some((backend) => backend !== 'redis' && backend !== 'postgres'))
    throw new ToolUsageError('bench:scale', '--queue takes redis, postgres or both (redis,postgres)')
  const directory = mkdtempSync(join(tmpdir(), 'open-actions-bench-scale-'))
  const rows: Record<string, unknown>[] = []
  try {
    for (const backend of backends as Backend[]) {
      const server = backend === 'redis' ? await startRedisServer() : await startPostgresServer()
      try {
        for (const workers of counts) rows.push(await measure(backend, server, workers, total, directory))
      } finally {
        await server.dispose()
      }
    }
  } finally {
    rmSync(directory, { recursive: true, force: true })
  }
  process.stdout.write(
    `\n| queue | workers | events/s end to end | deliveries/s | accepted/s | server operations/event | server bytes/event |\n|---|---|---|---|---|---|---|\n`
  )
  for (const row of rows)
    process.stdout.write(
      `| ${row.queue} | ${row.workers} | ${row.eventsPerSecond} | ${row.deliveriesPerSecond} | ${row.acceptedPerSecond} | ${row.operationsPerEvent} | ${row.bytesPerEvent} |\n`
    )
}

async function measure(
  backend: Backend,
  server: { readonly url: string; readonly port: number },
  workers: number,
  total: number,
  directory: string
): Promise<Record<string, unknown>> {
  const config = join(directory, `config-${backend}-${workers}.json`)
  writeFileSync(
    config,
    JSON.stringify({
      ...sampleConfig,
      stateDir: join(directory, 'state'),
      queue: { kind: backend, url: server.url, namespace: `bench-${workers}` }
    })
  )
  const processes = [
    await startProcess(['start', '--config', config, '--port', '0', '--role', 'api'], directory, 'api')
  ]
  for (let index = 0; index < workers; index++)
    processes.push(
      await startProcess(['start', '--config', config, '--port', '0', '--role', 'worker'], directory, `worker-${index}`)
    )
  const api = processes[0]?.url ?? ''
  const before = serverCounters(backend, server.port)
  const started = performance.now()
  let next = 0
  const post = async () => {
    for (;;) {
      const start = next
      next += 100
      if (start >= total) return
      const body = Array.from({ length: Math.min(100, total - start) }, (_, offset) =>
        event(start + offset, `${backend}-w${workers}`)
      )
      const response = await fetch(`${api}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body)
      })
      if (response.status !== 202)
        throw new Error(`POST /v1/events answered ${response.status}: ${await response.text()}`)
      await response.arrayBuffer()
    }
  }
  await Promise.all(Array.from({ length: 4 }, post))
  const accepted = performance.now()
  for (;;) {
    const health = (await (await fetch(`${api}/health`)).json()) as { backlog: number }
    if (health.backlog === 0) break
    await delay(20)
  }
  const done = performance.now()
  const after = serverCounters(backend, server.port)
  let deliveries = 0
  for (const process of processes.slice(1)) {
    const text = await (await fetch(`${process.url}/metrics`)).text()
    for (const line of text.split('\n'))
      if (line.startsWith('open_actions_deliveries_total{') && line.includes('outcome="delivered"'))
        deliveries += Number(line.split(' ').at(-1))
  }
  for (const process of processes) process.child.kill('SIGTERM')
  await Promise.all(
    processes.map(
      (process) =>
        new Promise((resolve) =>
          process.child.exitCode !== null ? resolve(null) : process.child.once('exit', resolve)
        )
    )
  )
  const seconds = (done - started) / 1000
  const per = (key: string) => ((after[key] ?? 0) - (before[key] ?? 0)) / total
  const row = {
    queue: backend,
    workers,
    events: total,
    deliveries,
    acceptedPerSecond: Math.round(total / ((accepted - started) / 1000)),
    eventsPerSecond: Math.round(total / seconds),
    deliveriesPerSecond: Math.round(deliveries / seconds),
    seconds: Number(seconds.toFixed(2)),
    // Redis: commands (those scripts run included); PostgreSQL: transactions.
    operationsPerEvent: Number(per('operations').toFixed(1)),
    // Redis: bytes received; PostgreSQL: WAL bytes written.
    bytesPerEvent: Math.round(per('bytesIn'))
  }
  process.stdout.write(`${JSON.stringify(row)}\n`)
  return row
}

runTool(main)
