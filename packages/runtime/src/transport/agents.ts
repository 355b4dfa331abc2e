import { type ClientRequest, Agent as HttpAgent } from 'node:http'
import http from 'node:http'
import https from 'node:https'
import { connect, Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { requestContext, type RequestContext } from './recorder'

/** The header that ties a connection to the delivery that made it; the simulator server reads and strips it. */
export const DELIVERY_HEADER = 'x-open-actions-delivery'

/**
 * A function on the hooked global agents that says whether a request made now (in this async context) goes to
 * the sandbox simulators. Integrations that bring their own agent (Tray's SSRF guard) ask it, and leave a request
 * that never leaves the machine to the global agent.
 */
export const SANDBOX_AGENT = Symbol.for('open-actions.sandbox-agent')

export interface AgentHooks {
  /** Where a request goes: the simulators on loopback, or the real vendor. */
  readonly sandboxed: (context: RequestContext | undefined) => boolean
  /** The simulator server's port, once it listens. */
  readonly simulatorPort: () => Promise<number>
  /** The port when the server already listens, so most connections are made at once. */
  readonly knownSimulatorPort: () => number | undefined
  /** Called for every request, before it is sent; returns the id the simulator server will see. */
  readonly register: (context: RequestContext | undefined, request: ClientRequest, sandboxed: boolean) => string
}

type RoutedOptions = Record<string, unknown> & { sandboxed?: boolean }
type Callback = (error: Error | null, socket: Duplex) => void

/** What Node calls on an agent; `addRequest` and `createConnection` are its documented extension points. */
interface AgentInternals {
  addRequest(request: ClientRequest, options: RoutedOptions): void
  createConnection(options: RoutedOptions, callback?: Callback): Duplex
  getName(options?: RoutedOptions): string
}

/** Hooks an agent instance: Node calls these through the instance, so instance properties take precedence. */
function hookAgent<Agent extends HttpAgent>(agent: Agent, hooks: AgentHooks): Agent {
  const internals = agent as unknown as AgentInternals
  const addRequest = internals.addRequest.bind(agent)
  const createConnection = internals.createConnection.bind(agent)
  const getName = internals.getName.bind(agent)
  internals.addRequest = (request, options) => {
    const context = requestContext.getStore()
    const sandboxed = hooks.sandboxed(context)
    const id = hooks.register(context, request, sandboxed)
    // Only the simulator server sees this header; real vendors never do.
    if (sandboxed) request.setHeader(DELIVERY_HEADER, id)
    addRequest(request, { ...options, sandboxed })
  }
  // Loopback sockets are pooled apart from real ones, since the same host may be reached both ways.
  internals.getName = (options = {}) => `${options.sandboxed ? 'sandbox:' : ''}${getName(options)}`
  internals.createConnection = (options, callback) => {
    if (!options.sandboxed) return createConnection(options, callback)
    // Returned, not passed to the callback: Node's agent takes a returned socket as created, and calling the
    // callback as well would register the same socket twice (requests then share it and fail).
    const port = hooks.knownSimulatorPort()
    if (port !== undefined) return connect({ port, host: '127.0.0.1' })
    // Only before the simulator server listens (a request made right after start): connect once it does.
    const socket = new Socket()
    void hooks.simulatorPort().then((listening) => {
      if (!socket.destroyed) socket.connect(listening, '127.0.0.1')
    })
    return socket
  }
  Object.defineProperty(agent, SANDBOX_AGENT, { value: () => hooks.sandboxed(requestContext.getStore()) })
  return agent
}

/**
 * Replaces Node's global HTTP and HTTPS agents (what actions-core's node-fetch uses when a request names no agent)
 * with keep-alive agents that send sandboxed requests, over a real loopback socket, to the simulator server, and
 * let live ones through. No monkey-patching of the http module: agents are Node's own extension point.
 */
export function installAgents(hooks: AgentHooks): { dispose(): void } {
  const previous = { http: http.globalAgent, https: https.globalAgent }
  // At most 32 connections per host. Node's agent hands a finished connection straight to a request waiting for the
  // same host (reuse under load: ~170 connections for 6,000 requests) and, without keepAlive, closes it when none
  // waits, so idle sockets never pile up or race a server's idle close (an idle pool did: 1,300 retries per 20,000
  // events; measured again with the per-instance send limit, it was no faster).
  const pool = { keepAlive: false, maxSockets: 32 }
  const httpsAgent = hookAgent(new https.Agent(pool), hooks)
  const httpAgent = hookAgent(new HttpAgent(pool), hooks)
  https.globalAgent = httpsAgent
  http.globalAgent = httpAgent
  return {
    dispose() {
      https.globalAgent = previous.https
      http.globalAgent = previous.http
      httpsAgent.destroy()
      httpAgent.destroy()
    }
  }
}
