/**
 * Real servers for tests and benchmarks: Debian's redis-server and PostgreSQL, each on a free loopback port with a
 * private directory, started and stopped by the caller (`.ci/run` installs both when missing). Nothing is mocked.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A real `redis-server` (Debian's), on a free loopback port with its own directory, as the tests run it. */
export interface RedisServer {
  readonly port: number
  readonly url: string
  /** Stops it as an operator would (SIGTERM: the append-only file is kept) and waits until it is gone. */
  stop(): Promise<void>
  /** Starts it again on the same port and directory: what was written comes back from the append-only file. */
  start(): Promise<void>
  /** Stops it and deletes its directory. */
  dispose(): Promise<void>
  /** Runs one command with `redis-cli` and returns its reply (INFO, CONFIG GET…). */
  cli(...args: string[]): string
}

export function freePort(): Promise<number> {
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

function redisBinary(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim()
  } catch {
    throw new Error("redis-server is not installed: install Debian's redis-server (.ci/run installs it when missing)")
  }
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket()
    socket.setTimeout(500)
    socket.once('error', () => resolve(false))
    socket.once('timeout', () => {
      socket.destroy()
      resolve(false)
    })
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'))
    socket.once('data', (data) => {
      socket.destroy()
      resolve(data.toString().startsWith('+PONG'))
    })
  })
}

/**
 * Starts `redis-server` as the production guide asks (append-only file with fsync every second, `noeviction`), on a
 * free port. Nothing is shared with another test file.
 */
export async function startRedisServer(): Promise<RedisServer> {
  const binary = redisBinary()
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'open-actions-redis-'))
  let child: ChildProcess | undefined
  let output = ''
  const start = async () => {
    output = ''
    child = spawn(
      binary,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
        '--save',
        '',
        '--maxmemory-policy',
        'noeviction',
        '--daemonize',
        'no'
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] }
    )
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const deadline = Date.now() + 10_000
    while (!(await answers(port))) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`redis-server did not start on port ${port}:\n${output.slice(-2000)}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  const stop = async () => {
    const running = child
    child = undefined
    if (!running || running.exitCode !== null) return
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve())
      running.kill('SIGTERM')
    })
  }
  await start()
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    stop,
    async dispose() {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    },
    cli(...args: string[]) {
      return execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' })
    }
  }
}

/** A real PostgreSQL (Debian's), on a free loopback port with a private data and socket directory. */
export interface PostgresServer {
  readonly port: number
  readonly url: string
  stop(): Promise<void>
  start(): Promise<void>
  dispose(): Promise<void>
}

function binDir(): string {
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((entry) => existsSync(join(root, entry, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : []
  const version = versions[0]
  if (version === undefined)
    throw new Error("PostgreSQL is not installed: install Debian's postgresql (.ci/run installs it when missing)")
  return join(root, version, 'bin')
}

/**
 * PostgreSQL refuses to run as root: as root the server runs as the `postgres` user the Debian package creates (with
 * `runuser`), otherwise as the current user. Trust authentication on 127.0.0.1 only, no data outside its directory.
 */
export async function startPostgresServer(): Promise<PostgresServer> {
  const bin = binDir()
  const port = await freePort()
  const root = mkdtempSync(join(tmpdir(), 'open-actions-postgres-'))
  chmodSync(root, 0o777)
  const data = join(root, 'data')
  const asRoot = process.getuid?.() === 0
  const run = (command: string, args: string[]) =>
    asRoot
      ? { file: 'runuser', args: ['-u', 'postgres', '--', join(bin, command), ...args] }
      : { file: join(bin, command), args }
  const init = run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'])
  execFileSync(init.file, init.args, { stdio: 'ignore' })
  let child: ChildProcess | undefined
  let output = ''
  const start = async () => {
    output = ''
    const server = run('postgres', [
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      root,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=300',
      '-c',
      'fsync=on'
    ])
    child = spawn(server.file, server.args, { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const deadline = Date.now() + 20_000
    for (;;) {
      const ready = run('pg_isready', ['-h', '127.0.0.1', '-p', String(port)])
      try {
        execFileSync(ready.file, ready.args, { stdio: 'ignore' })
        return
      } catch {
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`PostgreSQL did not start on port ${port}:\n${output.slice(-2000)}`)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
  }
  const stop = async () => {
    const running = child
    child = undefined
    if (!running || running.exitCode !== null) return
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()))
    // Fast shutdown of the postmaster itself (runuser does not pass signals on): clients are disconnected, what was
    // committed stays.
    const pidFile = join(data, 'postmaster.pid')
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : Number.NaN
    if (Number.isInteger(pid) && pid > 0) process.kill(pid, 'SIGINT')
    else running.kill('SIGINT')
    await exited
  }
  await start()
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    async dispose() {
      await stop()
      rmSync(root, { recursive: true, force: true })
    }
  }
}
