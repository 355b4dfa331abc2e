import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { Destination, type JSONObject, type Result, type SegmentEvent } from '@segment/actions-core'
import { parseFql } from '@segment/destination-subscriptions'
import { createRedactor, presetSubscriptions, type Subscription } from '@open-actions/core'
import { fuzzSeed, jsonValueArbitrary, segmentEventArbitrary } from '@open-actions/testing/arbitraries'
// The factories alone: the package index loads jest helpers this file does not use.
import * as events from '@open-actions/testing/events'
import fc from 'fast-check'
import nock from 'nock'
import { RuntimeMetrics } from '../metrics'
import { createSimulators } from '../simulators'
import { recordingSimulator } from '../simulators/recording'
import { registry } from '../start'
import { destinationWithTransport } from '../transport/attach-transport'
import { InstanceTransport } from '../transport/http-transport'
import { DeliveryRecorder } from '../transport/recorder'
import { compileTarget } from './compiled-target'

/*
 * The fast path against actions-core, by fuzzing (the test files `fast-path.*.differential.test.ts` each run one group
 * of integrations through `describeDifferential`): for every preset of every bundled integration, seeded fast-check
 * events (valid, edge and malformed: the fuzz arbitraries) go through plain actions-core (`new Destination(definition)
 * .onEvent`, its own node-fetch client) and through the compiled target (the runtime's client over an instance
 * transport), one at a time and in batches through `onBatch`. nock answers both the same way, request by request: the
 * vendor simulators' own answers, or an error the case picks (429 with Retry-After, 5xx, 401, 400). Everything that
 * leaves must be the same — method, URL, every header but the connection ones, the body's bytes — and so must what the
 * call returns (results, multistatus) or throws (class, name, message, status, code).
 */

const RUNS = Number(process.env.FAST_PATH_RUNS ?? 2000)
const BATCH_RUNS = Math.max(1, Math.round(RUNS / 20))
/** Per action: thousands of cases through two clients; generous, so a busy CI machine does not time it out. */
const TIMEOUT_MS = 15 * 60_000

/**
 * The integrations, in the groups the test files take (one file each: nock's interceptor keeps memory per request
 * until it is restored, which each file does at its end). Every integration with a destination is in one group.
 */
export const DIFFERENTIAL_GROUPS: readonly (readonly string[])[] = [
  ['insider'],
  ['moengage', 'onesignal'],
  ['segment', 'tray']
]

/** Settings each integration's simulator accepts. */
const SETTINGS: Record<string, JSONObject> = {
  insider: { account_name: 'fuzzstore', ucd_key: 'fuzz-ucd-key' },
  moengage: { api_id: 'FUZZWS', api_key: 'fuzz-moe-key', region: 'DC_02' },
  onesignal: { app_id: '00000000-0000-4000-8000-00000000f022', api_key: 'fuzz-os-key' },
  segment: { write_key: 'fuzz-write-key', region: 'eu' },
  tray: { workflows: ['https://fuzz-one.trayapp.io', 'https://fuzz-two.trayapp.io'], shared_secret: 'fuzz-secret' }
}

const EVERY_TYPE =
  'type = "track" or type = "identify" or type = "page" or type = "screen" or type = "group" or type = "alias"'

/** Headers about the connection, not the request: node-fetch closes, the runtime keeps alive. */
const CONNECTION_HEADERS = new Set(['connection', 'keep-alive'])

/**
 * The events: the fuzz arbitraries' (valid, edge, malformed), and the Segment spec's own events — Ecommerce, Engage
 * audiences and computed traits — with fuzzed ids, keys and values, so actions that only act on those are reached too.
 */
const specEvent = fc
  .tuple(
    fc.constantFrom(
      (key: string, value: unknown) => events.audienceIdentifyEvent(key, value === true),
      (key: string, value: unknown) => events.audienceTrackEvent(key, value !== false),
      (key: string, value: unknown) => events.computedTraitIdentifyEvent(key, value as never),
      (key: string, value: unknown) => events.computedTraitTrackEvent(key, value as never),
      () => events.orderCompletedEvent(),
      () => events.productViewedEvent(),
      () => events.productListViewedEvent(),
      () => events.cartViewedEvent(),
      () => events.checkoutStartedEvent(),
      () => events.identifyEvent(),
      () => events.trackEvent('User Registered', { method: 'email' }),
      () => events.pageEvent(),
      () => events.groupEvent(),
      () => events.aliasEvent(),
      () => events.screenEvent()
    ),
    fc.oneof(fc.constantFrom('vip_customers', 'lifetime_value', ''), fc.string({ maxLength: 12 })),
    jsonValueArbitrary,
    fc.option(fc.oneof(fc.string({ maxLength: 12 }), fc.constant('')), { nil: undefined })
  )
  .map(([make, key, value, userId]) => {
    const event = make(key, value) as unknown as Record<string, unknown>
    return userId === undefined ? event : { ...event, userId }
  })
const eventArbitrary = fc.oneof(segmentEventArbitrary, specEvent)

/** How the vendor answers one request: as its simulator does, or with an error. */
type Answer = 'vendor' | 429 | 500 | 503 | 401 | 400
const answers = fc.array(fc.constantFrom<Answer>('vendor', 'vendor', 'vendor', 429, 500, 503, 401, 400), {
  minLength: 1,
  maxLength: 4
})

interface Sent {
  readonly method: string
  readonly url: string
  readonly headers: Record<string, string>
  readonly body: string
}

/** The vendor, for both arms: every request recorded, answered by the plan of the case being run. */
const vendor = {
  sent: [] as Sent[],
  plan: ['vendor'] as readonly Answer[],
  simulators: createSimulators(),
  /** Hosts requested that no vendor simulator serves: none expected. */
  strayHosts: [] as string[]
}

function answer(method: string, url: string, headers: Record<string, string>, body: string) {
  const choice = vendor.plan[vendor.sent.length % vendor.plan.length] ?? 'vendor'
  vendor.sent.push({ method, url, headers, body })
  if (choice === 429) return [429, { error: 'rate limited' }, { 'retry-after': '7' }] as const
  if (choice !== 'vendor') return [choice, { error: `HTTP ${choice}` }, {}] as const
  const parsed = new URL(url)
  const simulator = vendor.simulators.find((candidate) => candidate !== recordingSimulator && candidate.handles(parsed))
  if (!simulator) vendor.strayHosts.push(parsed.host)
  let json: unknown
  try {
    json = body === '' ? undefined : JSON.parse(body)
  } catch {
    json = undefined
  }
  const simulated = simulator?.answer({ method, url: parsed, headers: new Headers(headers), rawBody: body, body: json })
  return [simulated?.status ?? 502, simulated?.body ?? {}, simulated?.headers ?? {}] as const
}

/**
 * Wildcard mocks, on purpose: this test's subject is that both arms send the same thing, wherever it goes, so every
 * request of either arm must be answered (a request the mocks missed would fail both arms alike and hide a
 * difference). What keeps the wildcard honest: each request must reach a host one of the vendor simulators serves
 * (`vendor.strayHosts` stays empty, checked after every action), and each action must make requests at all.
 */
function interceptEverything(): void {
  for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])
    nock(/.*/)
      .persist()
      .intercept(() => true, method)
      .reply(function (this: nock.ReplyFnContext, uri, requestBody) {
        const headers: Record<string, string> = {}
        for (const [name, value] of Object.entries(this.req.headers))
          if (!CONNECTION_HEADERS.has(name.toLowerCase()))
            headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value)
        const host = this.req.headers.host ?? 'unknown.invalid'
        const protocol = (this.req as unknown as { protocol?: string }).protocol ?? 'https:'
        const body = typeof requestBody === 'string' ? requestBody : JSON.stringify(requestBody)
        const [status, json, extra] = answer(method, `${protocol}//${host}${uri}`, headers, body)
        return [status, JSON.stringify(json), { 'content-type': 'application/json', ...extra }]
      })
}

/** What a call ended in, comparably: its results, or its error's class and what a runtime reads of it. */
function outcomeOf(run: () => Promise<Result[]>): Promise<unknown> {
  return run().then(
    (results) => ({ results }),
    (error: unknown) => {
      const failed = error as { name?: unknown; message?: unknown; status?: unknown; code?: unknown }
      return {
        error: {
          class: (error as object)?.constructor?.name,
          name: failed?.name,
          message: failed?.message,
          status: failed?.status,
          code: failed?.code,
          retryAfter: (error as { retryAfter?: unknown })?.retryAfter
        }
      }
    }
  )
}

interface ActionCase {
  readonly name: string
  readonly integration: string
  readonly definitionKey: string
  readonly preset: Subscription
  readonly batches: boolean
}

function actionCases(slugs: readonly string[]): ActionCase[] {
  const list: ActionCase[] = []
  for (const [slug, entry] of registry) {
    if (!slugs.includes(slug)) continue
    for (const [definitionKey, definition] of Object.entries(entry.destinations))
      for (const preset of presetSubscriptions(definition))
        list.push({
          name: `${slug}/${definitionKey} ${preset.partnerAction} (${preset.name ?? 'preset'})`,
          integration: slug,
          definitionKey,
          preset,
          batches: definition.actions[preset.partnerAction]?.performBatch !== undefined
        })
  }
  return list
}

/** The differential fuzz test for the presets of `slugs` (one test file's group). */
export function describeDifferential(slugs: readonly string[]): void {
  describe(`the fast path sends and returns what actions-core does: ${slugs.join(', ')}`, () => {
    const cases = actionCases(slugs)
    const seed = fuzzSeed()
    const metrics = new RuntimeMetrics()

    beforeAll(() => {
      // The clock stands still (and only the clock is faked): payloads that carry "now" — and ids hashed from it — are
      // the same in both arms.
      jest.useFakeTimers({
        now: new Date('2026-05-01T12:00:00.000Z'),
        advanceTimers: false,
        doNotFake: [
          'hrtime',
          'nextTick',
          'performance',
          'queueMicrotask',
          'requestAnimationFrame',
          'cancelAnimationFrame',
          'requestIdleCallback',
          'cancelIdleCallback',
          'setImmediate',
          'clearImmediate',
          'setInterval',
          'clearInterval',
          'setTimeout',
          'clearTimeout'
        ]
      })
      if (!nock.isActive()) nock.activate()
      nock.disableNetConnect()
      interceptEverything()
    })
    afterAll(() => {
      jest.useRealTimers()
      nock.cleanAll()
      nock.enableNetConnect()
      nock.restore()
    })

    it('has settings and presets for each of its integrations', () => {
      for (const slug of slugs) {
        expect(SETTINGS[slug]).toBeDefined()
        expect(cases.filter((entry) => entry.integration === slug).length).toBeGreaterThan(0)
      }
    })

    it.each(cases.map((entry) => [entry.name, entry] as const))(
      '%s',
      async (_name, entry) => {
        const definition = registry.get(entry.integration)?.destinations[entry.definitionKey]
        if (!definition) throw new Error(`no ${entry.name}`)
        const settings = SETTINGS[entry.integration] as JSONObject
        const transport = new InstanceTransport({
          instance: 'fuzz',
          mode: 'live',
          connections: 4,
          recorder: new DeliveryRecorder(10),
          redactor: () => createRedactor([]),
          metrics
        })
        const { destination } = destinationWithTransport(definition, transport, 'runtime')
        const plain = new Destination(definition)
        const prepare = (subscription: Subscription) => {
          const withSubscription = { ...settings, subscriptions: [subscription as unknown as JSONObject] }
          const compiled = compileTarget(destination, subscription, withSubscription, parseFql(subscription.subscribe))
          expect(compiled.path).toStrictEqual({ path: 'compiled' })
          if (!('target' in compiled)) throw new Error('not compiled')
          return { settings: withSubscription, target: compiled.target }
        }
        // Every event reaches the action (the preset's mapping, every event type); batches keep the preset's own FQL, so
        // events it does not match sit between those it does.
        const everyEvent = prepare({ ...entry.preset, subscribe: EVERY_TYPE })
        const ownFql = prepare(entry.preset)
        const tally = { cases: 0, requests: 0, errors: 0, batches: 0 }
        const compare = async (
          plan: readonly Answer[],
          viaActionsCore: () => Promise<Result[]>,
          viaFastPath: () => Promise<Result[]>
        ) => {
          // Each arm meets the vendor as it was (the OneSignal simulator remembers the segments it was asked to create).
          vendor.simulators = createSimulators()
          vendor.plan = plan
          vendor.sent = []
          const expected = await outcomeOf(viaActionsCore)
          const expectedSent = vendor.sent
          plain.responses.length = 0
          vendor.simulators = createSimulators()
          vendor.sent = []
          const actual = await outcomeOf(viaFastPath)
          const actualSent = vendor.sent
          destination.responses.length = 0
          // As JSON text: the same bytes and the same key order (and keys such as "constructor", which jest's deep
          // equality reads as a class, compare as what they are).
          expect(JSON.stringify(actualSent)).toBe(JSON.stringify(expectedSent))
          expect(JSON.stringify(actual)).toBe(JSON.stringify(expected))
          tally.requests += actualSent.length
          if ('error' in (expected as object)) tally.errors += 1
        }
        try {
          await fc.assert(
            fc.asyncProperty(eventArbitrary, answers, async (event, plan) => {
              tally.cases += 1
              const segmentEvent = event as unknown as SegmentEvent
              await compare(
                plan,
                () => plain.onEvent(segmentEvent, everyEvent.settings),
                () => everyEvent.target.onEvent(segmentEvent)
              )
            }),
            { seed, numRuns: RUNS }
          )
          if (entry.batches)
            await fc.assert(
              fc.asyncProperty(
                fc.array(eventArbitrary, { minLength: 1, maxLength: 8 }),
                answers,
                async (events, plan) => {
                  tally.batches += 1
                  const batch = events as unknown as SegmentEvent[]
                  await compare(
                    plan,
                    () => plain.onBatch(batch, ownFql.settings),
                    () => ownFql.target.onBatch(batch)
                  )
                  await compare(
                    plan,
                    () => plain.onBatch(batch, everyEvent.settings),
                    () => everyEvent.target.onBatch(batch)
                  )
                }
              ),
              { seed, numRuns: BATCH_RUNS }
            )
        } finally {
          await transport.close()
        }
        expect(vendor.strayHosts).toStrictEqual([])
        expect(tally.cases).toBe(RUNS)
        // The fuzzing reached the vendor, and not only with failures.
        expect(tally.requests).toBeGreaterThan(0)
        expect(tally.errors).toBeLessThan(tally.cases)
      },
      TIMEOUT_MS
    )
  })
}
