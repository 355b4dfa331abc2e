import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { loadConfigFile, resolveConfig, type ResolvedConfig, type RuntimeConfigInput } from './config'
import type { LogLevel } from './logger'
import { manifest } from './manifest.generated'
import { createRegistry, type Registry } from './registry'
import { OpenActionsRuntime } from './runtime'
import { sampleConfig } from './sample-config'
import { createRuntimeServer } from './server'

export const DEFAULT_PORT = 3700
export const DEFAULT_HOST = '127.0.0.1'

export const registry: Registry = createRegistry(manifest)

/** A configuration file, or the embedded sample (every integration, sandbox) when none is given. */
export function loadConfig(file: string | undefined, overrides: Partial<RuntimeConfigInput> = {}): ResolvedConfig {
  if (file) {
    const loaded = loadConfigFile(file, registry)
    return Object.keys(overrides).length === 0
      ? loaded
      : resolveConfig({ ...loaded.config, ...overrides }, registry, file)
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
  readonly logLevel?: LogLevel
  readonly logWrite?: (line: string) => void
}): Promise<StartedRuntime> {
  const runtime = new OpenActionsRuntime({
    resolved: options.resolved,
    registry,
    ...(options.logLevel ? { logLevel: options.logLevel } : {}),
    ...(options.logWrite ? { logWrite: options.logWrite } : {})
  })
  await runtime.transport.ready
  const host = options.host ?? DEFAULT_HOST
  const server = createRuntimeServer(runtime, {
    host,
    port: options.port ?? DEFAULT_PORT,
    ...(options.token ? { token: options.token } : {})
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? DEFAULT_PORT, host, () => resolve())
  })
  const address = server.address() as AddressInfo
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
  return {
    runtime,
    server,
    url,
    async stop() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await runtime.close()
    }
  }
}
