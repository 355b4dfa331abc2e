import type { Destination, JSONObject } from '@segment/actions-core'
import { createRedactor, type Redactor } from '@open-actions/core'
import { RuntimeMetrics } from '../metrics'
import type { RuntimeDestinationDefinition } from '../registry'
import { createSimulators, type VendorSimulator } from '../simulators'
import { type SimulatorServer, type SimulatorServerOptions, startSimulatorServer } from '../simulators/server'
import { type ClientKind, destinationWithTransport } from './attach-transport'
import { FaultBook } from './faults'
import { InstanceTransport } from './http-transport'
import { DeliveryRecorder } from './recorder'

export interface SandboxOptions {
  /** The vendors answering; the runtime's simulators when absent. */
  readonly simulators?: readonly VendorSimulator[]
  readonly faults?: FaultBook
  /** Answer chunked, without Content-Length. */
  readonly chunked?: boolean
  /** Sees every request as it arrived on the wire. */
  readonly onRequest?: SimulatorServerOptions['onRequest']
  readonly recorder?: DeliveryRecorder
  readonly redactor?: Redactor
  readonly metrics?: RuntimeMetrics
}

export interface SandboxDestinationOptions {
  /** The name its requests are recorded under (`sandbox` by default). */
  readonly instance?: string
  /** `runtime` (default): the runtime's request client, connections reused; `actions-core`: actions-core's own. */
  readonly client?: ClientKind
  /** Connections of its pool, at most (default 8). */
  readonly connections?: number
}

/** The simulators on loopback, and actions-core destinations whose requests they answer. */
export interface Sandbox {
  readonly server: SimulatorServer
  readonly recorder: DeliveryRecorder
  /** An actions-core `Destination` for `definition` with a transport of its own, connected to the simulators. */
  destination(definition: RuntimeDestinationDefinition, options?: SandboxDestinationOptions): Destination<JSONObject>
  close(): Promise<void>
}

/**
 * The sandbox outside a running runtime (benchmarks, the fuzzer, a contributor's script): the simulator server on
 * 127.0.0.1 and per-destination transports that reach it, exactly as a sandbox-mode runtime instance does. Nothing
 * process-global changes: only the destinations made here are routed.
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const server = await startSimulatorServer(
    options.simulators ?? createSimulators(),
    options.faults ?? new FaultBook(),
    {
      chunked: options.chunked === true,
      ...(options.onRequest ? { onRequest: options.onRequest } : {})
    }
  )
  const recorder = options.recorder ?? new DeliveryRecorder()
  const redactor = options.redactor ?? createRedactor([])
  const metrics = options.metrics ?? new RuntimeMetrics()
  const transports: InstanceTransport[] = []
  return {
    server,
    recorder,
    destination(definition, destinationOptions = {}) {
      const transport = new InstanceTransport({
        instance: destinationOptions.instance ?? 'sandbox',
        mode: 'sandbox',
        connections: destinationOptions.connections ?? 8,
        simulatorPorts: server.ports,
        recorder,
        redactor: () => redactor,
        metrics
      })
      transports.push(transport)
      return destinationWithTransport(definition, transport, destinationOptions.client ?? 'runtime').destination
    },
    async close() {
      await Promise.all(transports.map((transport) => transport.close()))
      await server.close()
    }
  }
}
