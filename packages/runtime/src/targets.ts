import type { Destination, JSONObject, SegmentEvent } from '@segment/actions-core'
import { transform } from '@segment/actions-core'
import { parseFql, validate } from '@segment/destination-subscriptions'
import type { Subscription } from '@open-actions/core'
import type { ResolvedConfig, ResolvedDestination, ResolvedSource } from './config'
import { type CompiledTarget, compileTarget, type ExecutionPath } from './fast-path/compiled-target'
import { actionsCoreFor } from './packages'
import { type TargetRef, targetKey } from './store/results'
import { type ClientKind, destinationWithTransport } from './transport/attach-transport'
import type { InstanceTransport } from './transport/http-transport'

type ParsedFql = ReturnType<typeof parseFql>

/** One subscription of one destination instance: the unit of delivery, retry and dead-lettering. */
export interface DestinationTarget {
  readonly kind: 'destination'
  readonly ref: TargetRef
  readonly key: string
  readonly instance: ResolvedDestination
  readonly subscription: Subscription
  readonly fql: ParsedFql
  /** Sent through `performBatch` in batches (the action has one and the mapping turns batching on). */
  readonly batched: boolean
  /** The instance's settings with only this subscription: built once per configuration, not per event. */
  readonly settings: JSONObject
  /** How its deliveries run: the compiled fast path, or actions-core's `Destination` (with the reason). */
  readonly path: ExecutionPath
  /**
   * Runs this subscription's events, built once: its compiled fast path, or the instance's `Destination` with
   * `settings` (the `onEvent` / `onBatch` of that subscription alone).
   */
  readonly runner: CompiledTarget
}

/** A source's messages on their way into Segment (through the source's write key), batched. */
export interface SourceTarget {
  readonly kind: 'source'
  readonly ref: TargetRef
  readonly key: string
  readonly source: ResolvedSource
  readonly batched: true
}

export type Target = DestinationTarget | SourceTarget

/** What the workers deliver for: one destination instance (all its subscriptions) or one source. */
export interface Lane {
  readonly id: string
  readonly maxConcurrent: number
  readonly targets: ReadonlyMap<string, Target>
  /** The instance's own HTTP transport: its connection pool, reused by its requests and no one else's. */
  readonly transport: InstanceTransport
  /** The request client its actions send with (`actions-core` when the definition or configuration asks for it). */
  readonly client: ClientKind
  /** A destination instance's one actions-core `Destination` (its `responses` list is cleared after every call). */
  readonly destination?: Destination<JSONObject>
}

/** What a lane's transport is made for: its id (the instance), its concurrency and its egress rule. */
export interface LaneTransportSpec {
  readonly instance: string
  readonly connections: number
  readonly allowPrivateNetworks: boolean
}

/** The fast path for one subscription; anything unexpected while preparing it leaves it on actions-core. */
function prepare(
  destination: Destination<JSONObject>,
  subscription: Subscription,
  settings: JSONObject,
  fql: ParsedFql
): { readonly path: ExecutionPath; readonly target?: CompiledTarget } {
  try {
    return compileTarget(destination, subscription, settings, fql)
  } catch (error) {
    return {
      path: {
        path: 'actions-core',
        reason: `the fast path could not prepare it (${String((error as Error)?.message ?? error)})`
      }
    }
  }
}

/** The lane id of a source: deliveries into Segment are recorded under this instance name. */
export function sourceLaneId(sourceId: string): string {
  return `source:${sourceId}`
}

export const SOURCE_ACTION = 'deliverToSegment'

function hasBatchingEnabled(subscription: Subscription): boolean {
  return (subscription.mapping as Record<string, unknown>).enable_batching === true
}

/**
 * Every lane and target of a configuration, built once: FQL parsed, settings per subscription prepared, and each lane
 * given its own transport (`transportFor`).
 */
export function buildLanes(
  resolved: ResolvedConfig,
  transportFor: (spec: LaneTransportSpec) => InstanceTransport
): Map<string, Lane> {
  const lanes = new Map<string, Lane>()
  for (const instance of resolved.destinations) {
    const transport = transportFor({
      instance: instance.id,
      connections: instance.maxConcurrent,
      allowPrivateNetworks: instance.allowPrivateNetworks
    })
    const { destination, client } = destinationWithTransport(instance.definition, transport, instance.client)
    // A definition with its own copy of actions-core runs with that copy's classes: the fast path is written against
    // the runtime's own, so such a definition stays on actions-core.
    const ownCopy = !actionsCoreFor(instance.definition).own
    const targets = new Map<string, Target>()
    for (const subscription of instance.subscriptions) {
      const action = instance.definition.actions[subscription.partnerAction]
      const ref: TargetRef = {
        instance: instance.id,
        integration: instance.integration,
        action: subscription.partnerAction,
        subscription: subscription.name ?? action?.title ?? subscription.partnerAction
      }
      const key = targetKey(ref)
      const fql = parseFql(subscription.subscribe)
      const settings = { ...instance.settings, subscriptions: [subscription as unknown as JSONObject] }
      const prepared: { readonly path: ExecutionPath; readonly target?: CompiledTarget } =
        instance.executor === 'actions-core'
          ? { path: { path: 'actions-core', reason: 'the configuration asks for it ("executor")' } as const }
          : ownCopy
            ? {
                path: {
                  path: 'actions-core',
                  reason: 'the package brings its own copy of @segment/actions-core'
                } as const
              }
            : prepare(destination, subscription, settings, fql)
      targets.set(key, {
        kind: 'destination',
        ref,
        key,
        instance,
        subscription,
        fql,
        batched: action?.performBatch !== undefined && hasBatchingEnabled(subscription),
        settings,
        path: prepared.path,
        runner: prepared.target ?? {
          onEvent: (event, options) => destination.onEvent(event, settings, options),
          onBatch: (events, options) => destination.onBatch([...events], settings, options)
        }
      })
    }
    lanes.set(instance.id, {
      id: instance.id,
      maxConcurrent: instance.maxConcurrent,
      targets,
      transport,
      client,
      destination
    })
  }
  for (const source of resolved.sources) {
    const id = sourceLaneId(source.id)
    const ref: TargetRef = {
      instance: id,
      integration: source.integration,
      action: SOURCE_ACTION,
      subscription: source.source.name
    }
    const key = targetKey(ref)
    const maxConcurrent = resolved.config.delivery.maxConcurrent
    const transport = transportFor({
      instance: id,
      connections: maxConcurrent,
      allowPrivateNetworks: resolved.config.network.allowPrivateNetworks
    })
    lanes.set(id, {
      id,
      maxConcurrent,
      targets: new Map([[key, { kind: 'source', ref, key, source, batched: true }]]),
      transport,
      client: 'runtime'
    })
  }
  return lanes
}

/** The destination targets an event matches, by FQL. */
export function matchTargets(lanes: ReadonlyMap<string, Lane>, event: SegmentEvent): DestinationTarget[] {
  const matched: DestinationTarget[] = []
  for (const lane of lanes.values())
    for (const target of lane.targets.values())
      if (target.kind === 'destination' && validate(target.fql, event)) matched.push(target)
  return matched
}

/**
 * Which batch an event joins: events whose `batch_keys` fields differ (another audience, say) go in different
 * requests, as actions-core requires.
 */
export function batchKeyOf(target: Target, event: SegmentEvent): string {
  if (target.kind === 'source') return target.key
  const keys = (target.subscription.mapping as Record<string, unknown>).batch_keys
  if (!Array.isArray(keys) || keys.length === 0) return target.key
  const payload = transform(target.subscription.mapping, event as unknown as JSONObject) as Record<string, unknown>
  return `${target.key}\u0000${JSON.stringify(keys.map((key) => payload[String(key)]))}`
}
