import { type JSONObject, type SegmentEvent, transform } from '@segment/actions-core'
import { parseFql, validate } from '@segment/destination-subscriptions'
import {
  createRedactor,
  presetSubscriptions,
  type Redactor,
  redactSettings,
  secretSettingKeys,
  type Subscription,
  testAuthentication as coreTestAuthentication
} from '@open-actions/core'
import { z } from 'zod'
import type { Registry, RuntimeDestinationDefinition } from './registry'
import { definitionRequestClient, destinationWithTransport } from './transport/attach-transport'
import type { InstanceTransport } from './transport/http-transport'
import { type DeliveryRecord, requestContext } from './transport/recorder'

export const testRequestSchema = z.strictObject({
  integration: z.string().min(1),
  definition: z.string().min(1).default('destination'),
  settings: z.record(z.string(), z.unknown()).default({}),
  subscriptions: z
    .union([
      z.literal('presets'),
      z.array(
        z.strictObject({
          name: z.string().optional(),
          partnerAction: z.string(),
          subscribe: z.string(),
          mapping: z.record(z.string(), z.unknown()).default({})
        })
      )
    ])
    .default('presets'),
  event: z.record(z.string(), z.unknown())
})

export const connectionTestSchema = z.strictObject({
  integration: z.string().min(1),
  definition: z.string().min(1).default('destination'),
  settings: z.record(z.string(), z.unknown()).default({})
})

/** The tester was asked for an integration or definition that is not installed (404). */
export class UnknownDefinitionError extends Error {
  readonly status = 404
  constructor(integration: string, definition: string, registry: Registry) {
    const entry = registry.get(integration)
    super(
      entry
        ? `${integration} has no destination "${definition}" (it has: ${Object.keys(entry.destinations).join(', ')})`
        : `integration "${integration}" is not installed (installed: ${[...registry.keys()].join(', ')})`
    )
    this.name = 'UnknownDefinitionError'
  }
}

export interface SubscriptionReport {
  readonly name: string
  readonly partnerAction: string
  readonly subscribe: string
  readonly matched: boolean
  /** What is wrong with the subscription itself (unknown action, a mapping key the action has no field for). */
  readonly problems?: readonly string[]
  readonly payload?: unknown
  readonly outcome?: 'delivered' | 'failed'
  readonly result?: unknown
  readonly error?: { readonly message: string; readonly status?: number }
  readonly requests: readonly DeliveryRecord[]
}

export interface TestReport {
  readonly integration: string
  readonly definition: string
  readonly settings: Record<string, unknown>
  readonly settingsError?: string
  readonly subscriptions: readonly SubscriptionReport[]
}

/** A subscription's own mistakes, each naming the key: an action the definition lacks, a field its action lacks. */
function subscriptionProblems(definition: RuntimeDestinationDefinition, subscription: Subscription): string[] {
  const action = definition.actions[subscription.partnerAction]
  if (!action)
    return [
      `partnerAction: "${subscription.partnerAction}" is not an action of ${definition.name} (actions: ${Object.keys(definition.actions).join(', ')})`
    ]
  const fields = Object.keys(action.fields)
  return Object.keys(subscription.mapping ?? {})
    .filter((key) => !fields.includes(key) && !['enable_batching', 'batch_size', 'batch_keys'].includes(key))
    .map((key) => `mapping.${key}: ${action.title} has no field "${key}" (fields: ${fields.join(', ')})`)
}

/** What a connection test found: ok, or what failed and which settings to look at, with the requests it made. */
export interface ConnectionReport {
  readonly ok: boolean
  /** `settings`: the settings do not validate; `authentication`: the vendor (or the definition's check) refused. */
  readonly stage?: 'settings' | 'authentication'
  readonly error?: { readonly message: string; readonly status?: number; readonly code?: string }
  /** The settings the failure points at (by key). */
  readonly settings?: readonly string[]
  readonly requests: readonly DeliveryRecord[]
}

/**
 * "Test connection": the settings validated as actions-core validates them, then the definition's
 * `testAuthentication` through `transport`, with every request captured and every secret (typed-in ones included)
 * redacted. The failure names the settings to fix.
 */
export async function testConnection(
  definition: RuntimeDestinationDefinition,
  settings: JSONObject,
  baseRedactor: Redactor,
  transport: InstanceTransport
): Promise<ConnectionReport> {
  const secretKeys = secretSettingKeys(definition)
  const redactor = createRedactor([
    ...baseRedactor.secrets,
    ...secretKeys.map((key) => settings[key]).filter((value): value is string => typeof value === 'string')
  ])
  const fields = definition.authentication?.fields ?? {}
  try {
    destinationWithTransport(definition, transport, 'runtime').destination.validateSettings(settings)
  } catch (error) {
    const message = redactor.text((error as Error).message)
    const named = Object.entries(fields)
      .filter(
        ([key, field]) => message.includes(`'${key}'`) || message.includes(`"${key}"`) || message.includes(field.label)
      )
      .map(([key]) => key)
    return { ok: false, stage: 'settings', error: { message }, settings: named, requests: [] }
  }
  const capture: DeliveryRecord[] = []
  const secrets = redactor.secrets
  const outcome = await requestContext.run({ action: 'testAuthentication', capture, secrets }, () =>
    coreTestAuthentication(definition, settings, {
      requestClient: definitionRequestClient(definition, transport, {
        action: 'testAuthentication',
        eventIds: [],
        capture,
        secrets
      })
    })
  )
  if (outcome.ok) return { ok: true, requests: capture }
  return {
    ok: false,
    stage: 'authentication',
    error: {
      message: redactor.text(outcome.error.message),
      status: outcome.error.status,
      code: outcome.error.code
    },
    settings: outcome.error.settings,
    requests: capture
  }
}

/**
 * The web page's event tester: runs one event through a definition with the given settings, through `transport`
 * (a sandbox one: never a real vendor, whatever the runtime's transport), and reports each subscription:
 * whether it matched, the mapped payload, the validation error or result, and the exact requests with every
 * secret (the typed-in ones included) redacted.
 */
export async function runTest(
  raw: unknown,
  registry: Registry,
  baseRedactor: Redactor,
  transport: InstanceTransport
): Promise<TestReport> {
  const input = testRequestSchema.parse(raw)
  const definition = registry.get(input.integration)?.destinations[input.definition]
  if (!definition) throw new UnknownDefinitionError(input.integration, input.definition, registry)
  const secretKeys = secretSettingKeys(definition)
  const secrets = secretKeys
    .map((key) => input.settings[key])
    .filter((value): value is string => typeof value === 'string' && value !== '')
  const redactor = createRedactor([...baseRedactor.secrets, ...secrets])
  const settings = input.settings as JSONObject
  const redactedSettings = redactor.value(redactSettings(input.settings, secretKeys))
  const { destination } = destinationWithTransport(definition, transport, 'runtime')
  let settingsError: string | undefined
  try {
    destination.validateSettings(settings)
  } catch (error) {
    settingsError = redactor.text((error as Error).message)
  }
  const subscriptions: Subscription[] =
    input.subscriptions === 'presets' ? presetSubscriptions(definition) : (input.subscriptions as Subscription[])
  const event = input.event as unknown as SegmentEvent
  const reports: SubscriptionReport[] = []
  for (const subscription of subscriptions) {
    const name =
      subscription.name ?? definition.actions[subscription.partnerAction]?.title ?? subscription.partnerAction
    const base = { name, partnerAction: subscription.partnerAction, subscribe: subscription.subscribe }
    const problems = subscriptionProblems(definition, subscription)
    if (problems.length > 0) {
      reports.push({ ...base, matched: false, problems, requests: [] })
      continue
    }
    const fql = parseFql(subscription.subscribe)
    if ('error' in fql) {
      reports.push({
        ...base,
        matched: false,
        error: { message: `${JSON.stringify(subscription.subscribe)} is not valid FQL` },
        requests: []
      })
      continue
    }
    if (!validate(fql, event)) {
      reports.push({ ...base, matched: false, requests: [] })
      continue
    }
    let payload: unknown
    try {
      payload = redactor.value(transform(subscription.mapping, event as unknown as JSONObject))
    } catch (error) {
      payload = { mappingError: redactor.text((error as Error).message) }
    }
    const capture: DeliveryRecord[] = []
    try {
      const results = await requestContext.run({ action: subscription.partnerAction, capture, secrets }, () =>
        destination.onEvent(event, { ...settings, subscriptions: [subscription as unknown as JSONObject] })
      )
      reports.push({
        ...base,
        matched: true,
        payload,
        outcome: 'delivered',
        result: redactor.value(results[results.length - 1] ?? null),
        requests: capture
      })
    } catch (error) {
      const status = (error as { status?: unknown }).status
      reports.push({
        ...base,
        matched: true,
        payload,
        outcome: 'failed',
        error: { message: redactor.text((error as Error).message), ...(typeof status === 'number' ? { status } : {}) },
        requests: capture
      })
    } finally {
      destination.responses.length = 0
    }
  }
  return {
    integration: input.integration,
    definition: input.definition,
    settings: redactedSettings,
    ...(settingsError ? { settingsError } : {}),
    subscriptions: reports
  }
}
