import type { Destination, JSONObject, RequestClient, RequestOptions } from '@segment/actions-core'
import { actionsCoreFor } from '../packages'
import type { RuntimeDestinationDefinition } from '../registry'
import type { ExchangeContext, HttpExchange, InstanceTransport } from './http-transport'
import { boundRequestContext, type RequestContext, requestContext } from './recorder'
import { createRuntimeRequestClient } from './request-client'

/**
 * Which client an instance's actions send with: `runtime` (the runtime's request client over its per-instance
 * connection pools) or `actions-core` (actions-core's own node-fetch client, one connection per request).
 */
export type ClientKind = 'runtime' | 'actions-core'

/** What actions-core's `Action` has and the runtime replaces (3.x: a method building the client of each call). */
interface ActionInternals {
  createRequestClient?: (data: Record<string, unknown>) => RequestClient
  afterResponse?: (...args: unknown[]) => unknown
}

function contextNow(
  action: string | undefined,
  context: RequestContext | undefined = requestContext.getStore()
): ExchangeContext {
  return {
    action: context?.action ?? action,
    eventIds: context?.eventIds ?? [],
    ...(context?.capture ? { capture: context.capture } : {}),
    ...(context?.secrets ? { secrets: context.secrets } : {})
  }
}

/**
 * A `Destination` whose requests go through `transport`, nothing global changed. With the runtime client, each action's
 * own request-client factory is replaced on this instance: the action still maps, validates and runs exactly as
 * actions-core runs it, and only where its request bytes go changes. With actions-core's client (asked for, or when the
 * definition's actions-core has no such factory), requests keep actions-core's node-fetch client and each gets its own
 * agent from the transport (routed and recorded the same way, no connection reuse). Calls that always take actions-core's
 * client (testAuthentication, onDelete, audience calls) get that agent too.
 *
 * A definition loaded from a package with its own copy of actions-core runs with that copy's `Destination` and request
 * client (the runtime's client builds the runtime copy's `Request`/`Response`, which that copy would not recognise), so
 * it always sends with `actions-core`.
 */
export function destinationWithTransport(
  definition: RuntimeDestinationDefinition,
  transport: InstanceTransport,
  preferred: ClientKind
): { readonly destination: Destination<JSONObject>; readonly client: ClientKind } {
  // A function agent: node-fetch calls it for each request, and actions-core's `agent.destroy()` after it is a no-op.
  // (node-fetch's agent option takes a function; actions-core's type says Agent.)
  const agent = Object.assign(
    (parsed: { href: string }) => transport.agentFor(new URL(parsed.href), contextNow(undefined)),
    { destroy: () => undefined }
  ) as unknown as NonNullable<RequestOptions['agent']>
  const { Destination, createRequestClient, own: ownCopy } = actionsCoreFor(definition)
  const extendRequest = definition.extendRequest
  const routed: RuntimeDestinationDefinition = {
    ...definition,
    extendRequest: (data) => {
      const options: RequestOptions & { beforeRequest?: readonly unknown[] } = extendRequest?.(data) ?? {}
      return {
        ...options,
        agent,
        // Only when a call passes an agent of its own (which would bypass the transport): the hook's answer makes
        // actions-core rebuild the request, so it is not returned otherwise.
        beforeRequest: [
          ...(options.beforeRequest ?? []),
          (current: { agent?: unknown }) => (current.agent === agent ? undefined : { agent })
        ]
      }
    }
  }
  const destination = new Destination(routed)
  const actions = Object.entries(destination.actions) as unknown as [string, ActionInternals][]
  const replaceable = actions.every(
    ([, action]) => typeof action.createRequestClient === 'function' && typeof action.afterResponse === 'function'
  )
  if (!replaceable) return { destination, client: 'actions-core' }
  const client: ClientKind = ownCopy ? preferred : 'actions-core'
  for (const [slug, action] of actions) {
    const afterResponse = (action.afterResponse as (...args: unknown[]) => unknown).bind(action)
    action.createRequestClient = (data) => {
      // The definition's own extendRequest (not the routed one), and the options actions-core's Action adds.
      const options = extendRequest?.(data as never) ?? {}
      const own = { afterResponse: [afterResponse], statsContext: data.statsContext, signal: data.signal }
      if (client === 'runtime') {
        // A context handed over with the call's data (the compiled path); else the ambient one, read per request.
        const given = boundRequestContext(data)
        const exchange: HttpExchange = given
          ? transport.exchange(contextNow(slug, given))
          : (request) => transport.exchange(contextNow(slug))(request)
        return createRuntimeRequestClient(exchange, options, own)
      }
      const built = createRequestClient(options, own as RequestOptions)
      // The agent goes in each call's own options, where a call's agent would be: nothing is merged twice.
      return (url, callOptions) => built(url, { ...callOptions, agent })
    }
  }
  return { destination, client }
}

/**
 * A request client for calls outside an action (a definition's `testAuthentication`), through `transport`: the
 * runtime's client, or the definition's own actions-core client with a routed agent when it brings its own copy.
 */
export function definitionRequestClient(
  definition: RuntimeDestinationDefinition,
  transport: InstanceTransport,
  context: ExchangeContext
): (options: RequestOptions) => RequestClient {
  const kit = actionsCoreFor(definition)
  if (kit.own) return (options) => createRuntimeRequestClient(transport.exchange(context), options)
  const agent = Object.assign((parsed: { href: string }) => transport.agentFor(new URL(parsed.href), context), {
    destroy: () => undefined
  }) as unknown as NonNullable<RequestOptions['agent']>
  return (options) => {
    const built = kit.createRequestClient(options)
    return (url, callOptions) => built(url, { ...callOptions, agent })
  }
}

/**
 * The runtime's client for code that takes a `RequestClient` (the Segment client of a source): its requests belong to
 * `context` when given, else to the ambient one of each request.
 */
export function runtimeRequestClient(
  transport: InstanceTransport,
  action: string,
  context?: RequestContext
): RequestClient {
  if (context) return createRuntimeRequestClient(transport.exchange(contextNow(action, context)))
  return createRuntimeRequestClient((request) => transport.exchange(contextNow(action))(request))
}
