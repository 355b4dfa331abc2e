import { AsyncLocalStorage } from 'node:async_hooks'
import { mentionsAny } from '../mentions'
import { Ring } from '../ring'

/**
 * Which delivery an outbound request belongs to: set around every `onEvent` / `onBatch` call, read by the instance's
 * transport when it records the request (the instance is the transport's own).
 */
export interface RequestContext {
  readonly action?: string
  readonly eventIds?: readonly string[]
  /** When set, requests made in this context are also collected here (the event tester's view). */
  readonly capture?: DeliveryRecord[]
  /** Secrets known only to this context (settings typed into the event tester), redacted too. */
  readonly secrets?: readonly string[]
}

export const requestContext = new AsyncLocalStorage<RequestContext>()

/**
 * The context of one action call handed over with the call's own data instead of through `requestContext`: the
 * compiled path builds that data itself, so its requests need no AsyncLocalStorage. (Once an AsyncLocalStorage is
 * entered, Node 20 runs a hook for every promise the process creates from then on: about 30 µs of each delivery.)
 */
const bound = new WeakMap<object, RequestContext>()

export function bindRequestContext(data: object, context: RequestContext | undefined): void {
  if (context) bound.set(data, context)
}

/** The context bound to an action call's data, if any (else the ambient one, `requestContext`, applies). */
export function boundRequestContext(data: unknown): RequestContext | undefined {
  return typeof data === 'object' && data !== null ? bound.get(data) : undefined
}

export interface DeliveryRecord {
  readonly id: number
  readonly at: string
  readonly transport: 'sandbox' | 'live'
  readonly instance: string | undefined
  readonly action: string | undefined
  readonly eventIds: readonly string[]
  readonly method: string
  readonly url: string
  readonly headers: Record<string, string>
  readonly body: unknown
  response?:
    | { readonly status: number; readonly body: unknown; readonly durationMs: number }
    | { readonly error: string; readonly durationMs: number }
}

/** The last N outbound requests, already redacted, for `GET /v1/deliveries` and the web page. */
export class DeliveryRecorder {
  private readonly records: Ring<DeliveryRecord>
  private nextId = 1

  constructor(capacity = 1000) {
    this.records = new Ring(capacity)
  }

  add(record: Omit<DeliveryRecord, 'id'>): DeliveryRecord {
    const stored: DeliveryRecord = { id: this.nextId++, ...record }
    this.records.add(stored)
    return stored
  }

  list(
    filter: { readonly instance?: string; readonly eventId?: string; readonly limit?: number } = {}
  ): DeliveryRecord[] {
    const matching = this.records
      .toArray()
      .filter(
        (record) =>
          (filter.instance === undefined || record.instance === filter.instance) &&
          (filter.eventId === undefined || record.eventIds.includes(filter.eventId))
      )
    return matching.slice(-(filter.limit ?? 100)).reverse()
  }

  get total(): number {
    return this.nextId - 1
  }

  /**
   * Drops every record of one of `eventIds`, or that mentions one of `values` as a JSON string (a deleted user's events
   * and ids); returns how many.
   */
  forget(eventIds: readonly string[], values: readonly string[]): number {
    const events = new Set(eventIds)
    return this.records.retain(
      (record) => !record.eventIds.some((id) => events.has(id)) && !mentionsAny(record, values)
    )
  }
}
