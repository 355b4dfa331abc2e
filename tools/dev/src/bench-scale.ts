import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { sampleConfig } from '@open-actions/runtime'
import { runTool, ToolUsageError, toolArguments } from './cli-args'

/**
 * Past one machine, measured: a real redis-server, the built CLI as one API process and 1, 2, 4 worker processes
 * (sandbox vendors, every destination of the sample configuration), N events posted through the API, timed until the
 * API's backlog is empty; Redis's own counters give commands and bytes per event. Figures are reported, not asserted.
 */

const CLI = join(dirname(require.resolve('@open-actions/runtime/package.json')), 'dist', 'cli.js')

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))
      )
    })
  })
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function redisInfo(port: number): Record<string, number> {
  const text = execFileSync('redis-cli', ['-p', String(port), 'info', 'all'], { encoding: 'utf8' })
  const values: Record<string, number> = {}
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(':')
    if (key && value !== undefined && /^\d+(\.\d+)?$/.test(value)) values[key] = Number(value)
  }
  return values
}

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
  const args = toolArguments('bench:scale', { events: { type: 'string' }, workers: { type: 'string' } })
  const total = args.number('events', 20_000)
  const counts = (args.string('workers') ?? '1,2,4').split(',').map(Number)
  if (counts.some((count) => !Number.isInteger(count) || count < 1))
    throw new ToolUsageError('bench:scale', '--workers takes whole numbers separated by commas, e.g. 1,2,4')
  try {
    execFileSync('sh', ['-c', 'command -v redis-server'])
  } catch {
    throw new ToolUsageError('bench:scale', 'redis-server is not installed (Debian: apt-get install redis-server)')
  }
  const directory = mkdtempSync(join(tmpdir(), 'open-actions-bench-scale-'))
  const port = await freePort()
  const redis = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      directory,
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--save',
      '',
      '--maxmemory-policy',
      'noeviction'
    ],
    { stdio: 'ignore' }
  )
  const rows: Record<string, unknown>[] = []
  try {
    for (let tries = 0; ; tries++) {
      try {
        execFileSync('redis-cli', ['-p', String(port), 'ping'], { stdio: 'ignore' })
        break
      } catch {
        if (tries > 100) throw new Error('redis-server did not start')
        await delay(50)
      }
    }
    for (const workers of counts) {
      execFileSync('redis-cli', ['-p', String(port), 'flushall'], { stdio: 'ignore' })
      const config = join(directory, `config-${workers}.json`)
      writeFileSync(
        config,
        JSON.stringify({
          ...sampleConfig,
          stateDir: join(directory, 'state'),
          queue: { kind: 'redis', url: `redis://127.0.0.1:${port}`, namespace: `bench-${workers}` }
        })
      )
      const processes = [
        await startProcess(['start', '--config', config, '--port', '0', '--role', 'api'], directory, 'api')
      ]
      for (let index = 0; index < workers; index++)
        processes.push(
          await startProcess(
            ['start', '--config', config, '--port', '0', '--role', 'worker'],
            directory,
            `worker-${index}`
          )
        )
      const api = processes[0]?.url ?? ''
      const before = redisInfo(port)
      const started = performance.now()
      let next = 0
      const post = async () => {
        for (;;) {
          const start = next
          next += 100
          if (start >= total) return
          const body = Array.from({ length: Math.min(100, total - start) }, (_, offset) =>
            event(start + offset, `w${workers}`)
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
      let deliveries = 0
      for (;;) {
        const health = (await (await fetch(`${api}/health`)).json()) as { backlog: number }
        if (health.backlog === 0) break
        await delay(20)
      }
      const done = performance.now()
      const after = redisInfo(port)
      deliveries = 0
      for (const process of processes.slice(1)) {
        const text = await (await fetch(`${process.url}/metrics`)).text()
        for (const line of text.split('\n'))
          if (line.startsWith('open_actions_deliveries_total{') && line.includes('outcome="delivered"'))
            deliveries += Number(line.split(' ').at(-1))
      }
      const seconds = (done - started) / 1000
      rows.push({
        workers,
        events: total,
        deliveries,
        acceptedPerSecond: Math.round(total / ((accepted - started) / 1000)),
        eventsPerSecond: Math.round(total / seconds),
        deliveriesPerSecond: Math.round(deliveries / seconds),
        seconds: Number(seconds.toFixed(2)),
        redisCommandsPerEvent: Number(
          (((after.total_commands_processed ?? 0) - (before.total_commands_processed ?? 0)) / total).toFixed(1)
        ),
        redisBytesInPerEvent: Math.round(
          ((after.total_net_input_bytes ?? 0) - (before.total_net_input_bytes ?? 0)) / total
        ),
        redisBytesOutPerEvent: Math.round(
          ((after.total_net_output_bytes ?? 0) - (before.total_net_output_bytes ?? 0)) / total
        ),
        redisCpuSeconds: Number(
          (
            (after.used_cpu_sys ?? 0) +
            (after.used_cpu_user ?? 0) -
            ((before.used_cpu_sys ?? 0) + (before.used_cpu_user ?? 0))
          ).toFixed(2)
        )
      })
      for (const process of processes) process.child.kill('SIGTERM')
      await Promise.all(
        processes.map(
          (process) =>
            new Promise((resolve) =>
              process.child.exitCode !== null ? resolve(null) : process.child.once('exit', resolve)
            )
        )
      )
      process.stdout.write(`${JSON.stringify(rows.at(-1))}\n`)
    }
  } finally {
    redis.kill('SIGTERM')
    rmSync(directory, { recursive: true, force: true })
  }
  process.stdout.write(
    `\n| workers | events/s end to end | deliveries/s | accepted/s | Redis commands/event | Redis bytes in/out per event |\n|---|---|---|---|---|---|\n`
  )
  for (const row of rows)
    process.stdout.write(
      `| ${row.workers} | ${row.eventsPerSecond} | ${row.deliveriesPerSecond} | ${row.acceptedPerSecond} | ${row.redisCommandsPerEvent} | ${row.redisBytesInPerEvent} / ${row.redisBytesOutPerEvent} |\n`
    )
}

runTool(main)
