import {
  ActionDestinationErrorResponse,
  type Destination,
  ErrorCodes,
  getAuthData,
  HTTPError,
  IntegrationError,
  type JSONObject,
  type Logger,
  MultiStatusResponse,
  resolveAudienceMembership,
  Response,
  type Result,
  type SegmentEvent,
  type StateContext,
  type StatsContext,
  validateSchema
} from '@segment/actions-core'
import { type parseFql, validate } from '@segment/destination-subscriptions'
import type { Subscription } from '@open-actions/core'
import { compileMapping, UnsupportedMapping } from './compile-mapping'
import { type EmptyValueSchema as JsonSchema, removeEmptyValues } from './remove-empty-values'
import { bindRequestContext, type RequestContext } from '../transport/recorder'

/*
 * The fast path: one subscription of one destination instance, prepared once per configuration, run the way
 * `Destination.onEvent` / `onBatch` run it with `{ ...settings, subscriptions: [subscription] }` (actions-core 3.170.0:
 * destination-kit/index.js `onSubscriptions` → `onSubscription` → action.js `execute` / `executeBatch`), minus the work
 * that does not change between events:
 *
 * - the settings are validated once (actions-core validates, and coerces, them on every call);
 * - the subscription's FQL is parsed once (actions-core parses it on every call) and only evaluated per event;
 * - the mapping is validated and compiled once (`compile-mapping.ts`; actions-core re-validates and walks it per event);
 * - the payload schema's validator is looked up once, and what the mapping settles (hook outputs, sync mode, matching
 *   key) is read once.
 *
 * The action's own `perform` / `performBatch` runs unchanged, through the action's request client — the runtime's
 * client over the instance's connection pools, which puts the same bytes on the wire as actions-core's — so requests,
 * results and errors are the same as actions-core's; the differential fuzz tests hold them to that. Whatever this does
 * not cover falls back to actions-core for that action, with the reason (`/v1/instances` shows it).
 */

type ParsedFql = ReturnType<typeof parseFql>

/** What one call is given besides the events: as `Destination.onEvent`'s options. */
export interface RunOptions {
  /** Who the call's requests are for (recorded with them); without it, the ambient `requestContext`. */
  readonly requestContext?: RequestContext
  readonly logger?: Logger
  readonly statsContext?: StatsContext
  readonly stateContext?: StateContext
  readonly signal?: AbortSignal
}

/** One subscription, ready to run: `onEvent` and `onBatch` as `Destination` has them, for this subscription alone. */
export interface CompiledTarget {
  onEvent(event: SegmentEvent, options?: RunOptions): Promise<Result[]>
  onBatch(events: readonly SegmentEvent[], options?: RunOptions): Promise<Result[]>
}

/** How an action's deliveries run: compiled, or through actions-core (with the reason it is not compiled). */
export type ExecutionPath = { readonly path: 'compiled' } | { readonly path: 'actions-core'; readonly reason: string }

/** What actions-core's `Action` keeps to itself and the fast path uses as it is (3.170.0). */
interface ActionInternals {
  readonly definition: {
    readonly title: string
    readonly perform: (request: unknown, data: unknown) => unknown
    readonly performBatch?: (request: unknown, data: unknown) => unknown
    readonly hooks?: Record<string, unknown>
    readonly syncMode?: unknown
  }
  readonly destinationName: string
  readonly schema?: JsonSchema
  readonly hasBatchSupport: boolean
  performRequest(perform: (request: unknown, data: unknown) => unknown, data: unknown): Promise<unknown>
  createRequestClient(data: unknown): unknown
  fillMultiStatusResponse(input: unknown): void
}

interface DestinationInternals {
  readonly name: string
  readonly authentication?: { readonly scheme?: string }
  readonly actions: Record<string, unknown>
  validateSettings(settings: JSONObject): void
}

type MultiStatusNode = Record<string, unknown> & { readonly status: number }

const ALLOWED_INTERNALS = ['performRequest', 'createRequestClient', 'fillMultiStatusResponse'] as const

const SYNC_MODES = new Set(['add', 'update', 'upsert', 'delete', 'mirror']) // actions-core's syncModeTypes

function personasOf(event: SegmentEvent): Record<string, unknown> | undefined {
  return (event.context as { personas?: Record<string, unknown> } | undefined)?.personas
}

/** What actions-core does to an error before rethrowing it from `onSubscription`. */
function rethrown(error: unknown): unknown {
  const named = error as { name?: unknown; status?: unknown }
  if (named?.name === 'AggregateAjvError' || named?.name === 'ValidationError') named.status = 400
  return error
}

const NOT_SUBSCRIBED: MultiStatusNode = {
  status: 400,
  errortype: ErrorCodes.PAYLOAD_VALIDATION_FAILED,
  errormessage: 'Payload is either invalid or does not match the subscription',
  errorreporter: 'INTEGRATIONS'
}

/**
 * Prepares `subscription` of `destination` (whose actions already send through the instance's transport) with the
 * instance's `settings` (without `subscriptions`). Returns the compiled target, or why this action stays on actions-core.
 */
export function compileTarget(
  destination: Destination<JSONObject>,
  subscription: Subscription,
  settings: JSONObject,
  fql: ParsedFql
): { readonly target: CompiledTarget; readonly path: ExecutionPath } | { readonly path: ExecutionPath } {
  const fallback = (reason: string) => ({ path: { path: 'actions-core', reason } as const })
  const internals = destination as unknown as DestinationInternals
  const scheme = internals.authentication?.scheme
  if (scheme === 'oauth2' || scheme === 'oauth-managed')
    return fallback('OAuth destinations refresh their token inside actions-core')
  if (typeof subscription.subscribe !== 'string' || subscription.subscribe === '')
    return fallback('the subscription has no FQL')
  if ('error' in fql && fql.error) return fallback('the subscription’s FQL does not parse')
  const action = internals.actions[subscription.partnerAction] as ActionInternals | undefined
  if (!action) return fallback(`the definition has no action "${subscription.partnerAction}"`)
  for (const name of ALLOWED_INTERNALS)
    if (typeof action[name] !== 'function')
      return fallback(`this actions-core's Action has no ${name} (the fast path is written against 3.170)`)

  // The settings as actions-core hands them to the action: without the subscriptions, validated (and coerced) once.
  // (`subcription` is actions-core's own spelling: a singular `subscription` key stays in, as it does there.)
  const { subcription: _typo, subscriptions: _all, oauth: _oauth, ...rest } = settings
  const destinationSettings = structuredClone(rest) as JSONObject
  try {
    internals.validateSettings(destinationSettings)
  } catch (error) {
    return fallback(`the settings fail actions-core's validation (${(error as Error).message})`)
  }
  const auth = getAuthData(settings as never)

  const mapping = (subscription.mapping ?? {}) as Record<string, unknown>
  let transform: ReturnType<typeof compileMapping>
  try {
    transform = compileMapping(mapping)
  } catch (error) {
    // Whatever stops the compiler leaves the action on actions-core: a configuration never fails to start over it.
    return fallback(
      error instanceof UnsupportedMapping
        ? error.message
        : `the mapping could not be compiled (${String((error as Error)?.message ?? error)})`
    )
  }

  const definition = action.definition
  const schema = action.schema
  const schemaKey = `${action.destinationName}:${definition.title}`
  let hookOutputs: Record<string, unknown> = {}
  if (definition.hooks)
    for (const hookType in definition.hooks)
      if (mapping[hookType]) hookOutputs = { ...hookOutputs, [hookType]: mapping[hookType] }
  const syncModeValue = definition.syncMode ? mapping.__segment_internal_sync_mode : undefined
  const syncMode = typeof syncModeValue === 'string' && SYNC_MODES.has(syncModeValue) ? syncModeValue : undefined
  const matchingKeyValue = mapping.__segment_internal_matching_key
  const matchingKey = matchingKeyValue ? String(matchingKeyValue) : undefined
  const slug = subscription.partnerAction
  const raw = subscription as unknown as Record<string, unknown>

  /** `onSubscription`'s per-call input. */
  const inputOf = (options: RunOptions) => {
    const statsContext = options.statsContext
    if (statsContext?.tags !== undefined) statsContext.tags = [...statsContext.tags, `partnerAction:${slug}`]
    return {
      subscriptionMetadata: {
        actionConfigId: raw.ID,
        destinationConfigId: raw.ConfigID,
        actionId: raw.ActionID,
        sourceId: raw.ProjectID
      },
      features: {},
      statsContext: (statsContext || {}) as Partial<StatsContext>,
      logger: options.logger,
      stateContext: options.stateContext,
      signal: options.signal,
      requestContext: options.requestContext
    }
  }

  const onEvent = async (event: SegmentEvent, options: RunOptions = {}): Promise<Result[]> => {
    const input = inputOf(options)
    try {
      if (!validate(fql, event)) return [{ output: 'not subscribed' }]
      const personas = personasOf(event)
      const results: Result[] = []
      let payload = transform(event)
      results.push({ output: 'Mappings resolved' })
      payload = removeEmptyValues(payload, schema, true) as Record<string, unknown>
      if (schema) {
        validateSchema(payload, schema as never, {
          schemaKey,
          statsContext: input.statsContext as StatsContext,
          exempt: ['dynamicAuthSettings']
        })
        results.push({ output: 'Payload validated' })
      }
      const audienceMembership = resolveAudienceMembership(event as never, syncMode as never)
      const data = {
        rawData: event,
        rawMapping: mapping,
        // A copy per call, as actions-core makes one: what a perform writes into it does not reach the next event.
        settings: { ...destinationSettings },
        payload,
        ...(typeof audienceMembership === 'boolean' ? { audienceMembership } : {}),
        auth,
        features: input.features,
        statsContext: input.statsContext as StatsContext,
        personasContext: personas,
        logger: input.logger,
        engageDestinationCache: undefined,
        transactionContext: undefined,
        stateContext: input.stateContext,
        audienceSettings: personas ? personas.audience_settings : {},
        hookOutputs,
        syncMode,
        matchingKey,
        subscriptionMetadata: input.subscriptionMetadata,
        signal: input.signal
      }
      bindRequestContext(data, input.requestContext)
      const output = await action.performRequest(definition.perform, data)
      results.push({ data: output as JSONObject, output: 'Action Executed' })
      return results
    } catch (error) {
      throw rethrown(error)
    }
  }

  const executeBatch = async (
    events: readonly SegmentEvent[],
    input: ReturnType<typeof inputOf>
  ): Promise<MultiStatusNode[]> => {
    if (!action.hasBatchSupport)
      throw new IntegrationError('This action does not support batched requests.', 'NotImplemented', 501)
    const first = personasOf(events[0] as SegmentEvent)
    let payloads = transform.many(events)
    const batchPayloadLength = payloads.length
    const multiStatusResponse: MultiStatusNode[] = []
    const invalidPayloadIndices = new Set<number>()
    const statsClient = input.statsContext.statsClient
    if (schema) {
      const filtered: Record<string, unknown>[] = []
      for (let index = 0; index < payloads.length; index += 1) {
        const payload = removeEmptyValues(payloads[index], schema) as Record<string, unknown>
        try {
          validateSchema(payload, schema as never, {
            schemaKey,
            throwIfInvalid: true,
            statsContext: input.statsContext as StatsContext,
            exempt: ['dynamicAuthSettings']
          })
        } catch (error) {
          multiStatusResponse[index] = {
            status: 400,
            errortype: ErrorCodes.PAYLOAD_VALIDATION_FAILED,
            errormessage: (error as Error).message,
            errorreporter: 'INTEGRATIONS'
          }
          invalidPayloadIndices.add(index)
          statsClient?.incr('action.multistatus_discard', 1, input.statsContext.tags)
          continue
        }
        filtered.push(payload)
      }
      payloads = filtered
    }
    if (payloads.length === 0) return multiStatusResponse
    if (!definition.performBatch) return multiStatusResponse
    const audienceMembership = events
      .map((event) => resolveAudienceMembership(event as never, syncMode as never))
      .filter((_, index) => !invalidPayloadIndices.has(index))
    const data = {
      rawData: events,
      rawMapping: mapping,
      settings: { ...destinationSettings },
      audienceSettings: first ? first.audience_settings : {},
      payload: payloads,
      audienceMembership,
      auth,
      features: input.features,
      statsContext: input.statsContext as StatsContext,
      personasContext: first,
      logger: input.logger,
      engageDestinationCache: undefined,
      transactionContext: undefined,
      stateContext: input.stateContext,
      subscriptionMetadata: input.subscriptionMetadata,
      hookOutputs,
      syncMode,
      matchingKey,
      signal: input.signal
    }
    bindRequestContext(data, input.requestContext)
    const response = await definition.performBatch(action.createRequestClient(data), data)
    const fill = (status: number, body: unknown) =>
      action.fillMultiStatusResponse({
        multiStatusResponse,
        invalidPayloadIndices,
        batchPayloadLength,
        status,
        body,
        filteredPayloads: payloads
      })
    if (response instanceof Response) {
      const read = response as Response & { data?: unknown; content?: unknown }
      fill(response.status, read.data ?? read.content ?? {})
      return multiStatusResponse
    }
    if (response instanceof HTTPError) {
      fill(response.response.status, response.message)
      return multiStatusResponse
    }
    if (response instanceof MultiStatusResponse) {
      let read = 0
      for (let index = 0; index < batchPayloadLength; index += 1) {
        if (invalidPayloadIndices.has(index)) continue
        const node = response.getResponseAtIndex(read++) as { value(): MultiStatusNode } | undefined
        if (!node) {
          multiStatusResponse[index] = {
            status: 500,
            errormessage: 'MultiStatusResponse is missing a response at the specified index',
            errortype: ErrorCodes.PAYLOAD_VALIDATION_FAILED,
            errorreporter: 'INTEGRATIONS'
          }
          statsClient?.incr('action.multistatus_discard', 1, input.statsContext.tags)
          continue
        }
        if (node instanceof ActionDestinationErrorResponse) {
          const value = node.value() as MultiStatusNode
          multiStatusResponse[index] = {
            ...value,
            errorreporter: value.sent || value.body ? 'DESTINATION' : 'INTEGRATIONS'
          }
          statsClient?.incr('destination.multistatus_discard', 1, input.statsContext.tags)
          continue
        }
        multiStatusResponse[index] = node.value()
      }
      return multiStatusResponse
    }
    fill(200, {})
    return multiStatusResponse
  }

  const onBatch = async (events: readonly SegmentEvent[], options: RunOptions = {}): Promise<Result[]> => {
    const input = inputOf(options)
    try {
      const subscribed: SegmentEvent[] = []
      const multistatus: MultiStatusNode[] = []
      const unsubscribed = new Set<number>()
      for (let index = 0; index < events.length; index += 1) {
        const event = events[index] as SegmentEvent
        if (!validate(fql, event)) {
          multistatus[index] = { ...NOT_SUBSCRIBED }
          unsubscribed.add(index)
          input.statsContext.statsClient?.incr('action.multistatus_discard', 1, input.statsContext.tags)
          continue
        }
        subscribed.push(event)
      }
      if (subscribed.length === 0) return [{ output: 'not subscribed' }]
      const executed = await executeBatch(subscribed, input)
      let merge = 0
      for (let index = 0; index < events.length; index += 1) {
        if (unsubscribed.has(index)) continue
        multistatus[index] = executed[merge++] as MultiStatusNode
      }
      return [{ multistatus } as unknown as Result]
    } catch (error) {
      throw rethrown(error)
    }
  }

  return { target: { onEvent, onBatch }, path: { path: 'compiled' } }
}
