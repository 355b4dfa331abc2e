import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { loadConfigFile, readConfigFile, resolveConfig, type ResolvedConfig, type RuntimeConfigInput } from './config'
import type { LogLevel } from './logger'
import { manifest } from './manifest.generated'
import { createRegistry, type Registry } from './registry'
import { OpenActionsRuntime, type RuntimeRole } from './runtime'
import { sampleConfig } from './sample-config'
import { assertListenable } from './server/access'
import { createRuntimeServer } from './server/app'

export const DEFAULT_PORT = 3700
export const DEFAULT_HOST = '127.0.0.1'

export const registry: Registry = createRegistry(manifest)

/**
 * A configuration file, or the embedded sample (every integration, sandbox) when none is given; `overrides` replace
 * top-level keys before the configuration is checked (so a `--queue` given on the command line is what the checks see).
 */
export function loadConfig(file: string | undefined, overrides: Partial<RuntimeConfigInput> = {}): ResolvedConfig {
  if (file) {
    if (Object.keys(overrides).length === 0) return loadConfigFile(file, registry)
    const raw = readConfigFile(file)
    return resolveConfig(typeof raw === 'object' && raw !== null ? { ...raw, ...overrides } : raw, registry, file)
  }
  return resolveConfig({ ...sampleConfig, ...overrides }, registry, '(embedded sample configuration)')
}

export interface StartedRuntime {
  readonly runtime: OpenActionsRuntime
  readonly server: Server
  readonly url: string
  stop(): Promise<void>
}

export async function startRuntime(options: {
  readonly resolved: ResolvedConfig
  readonly host?: string
  readonly port?: number
  readonly token?: string
  /** A token that may read `/metrics` only. */
  readonly metricsToken?: string
  /** More names the API answers to in `Host`, besides the configuration's `server.allowedHosts`. */
  readonly allowedHosts?: readonly string[]
  readonly logLevel?: LogLevel
  readonly logWrite?: (line: string) => void
  readonly role?: RuntimeRole
  readonly workerName?: string
}): Promise<StartedRuntime> {
  const host = options.host ?? DEFAULT_HOST
  const port = options.port ?? DEFAULT_PORT
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new StartError(`the port must be a whole number from 0 to 65535 (got ${String(options.port)})`)
  try {
    assertListenable(host, options.token)
  } catch (error) {
    throw new StartError((error as Error).message)
  }
  const runtime = await OpenActionsRuntime.open({
    resolved: options.resolved,
    registry,
    ...(options.logLevel ? { logLevel: options.logLevel } : {}),
    ...(options.logWrite ? { logWrite: options.logWrite } : {}),
    ...(options.role ? { role: options.role } : {}),
    ...(options.workerName ? { workerName: options.workerName } : {})
  })
  let server: Server
  try {
    server = createRuntimeServer(runtime, {
      host,
      allowedHosts: [...options.resolved.config.server.allowedHosts, ...(options.allowedHosts ?? [])],
      ...(options.token ? { token: options.token } : {}),
      ...(options.metricsToken ? { metricsToken: options.metricsToken } : {})
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => resolve())
    })
  } catch (error) {
    await runtime.close()
    const code = (error as { code?: unknown }).code
    if (code === 'EADDRINUSE') throw new StartError(`port ${port} on ${host} is in use by another process`)
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
      throw new StartError(`cannot listen on ${host}: no such address on this machine`)
    if (code === 'EACCES')
      throw new StartError(`not allowed to listen on port ${port} (ports below 1024 need privileges)`)
    throw error
  }
  const address = server.address() as AddressInfo
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
  let stopping: Promise<void> | undefined
  return {
    runtime,
    server,
    url,
    stop() {
      // Stop accepting, let requests in flight finish (each commits or fails whole), then stop the workers.
      stopping ??= (async () => {
        const deadline = Date.now() + options.resolved.config.shutdownTimeoutMs
        const closed = new Promise((resolve) => server.close(resolve))
        server.closeIdleConnections()
        const timer = setTimeout(() => server.closeAllConnections(), Math.max(0, deadline - Date.now()))
        await closed
        clearTimeout(timer)
        await runtime.close()
      })()
      return stopping
    }
  }
}

/** A start that cannot run: one line for the operator, no stack trace. */
export class StartError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'StartError'
  }
}
