import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import type { JSONObject } from '@segment/actions-core'
import { parseFql } from '@segment/destination-subscriptions'
import { presetSubscriptions, secretSettingKeys, type Subscription } from '@open-actions/core'
import { z } from 'zod'
import { actionsCoreFor, loadPackage, PackageLoadError } from './packages'
import type { IntegrationEntry, Registry, RuntimeDestinationDefinition, RuntimeSourceDefinition } from './registry'

const subscriptionSchema = z.strictObject({
  name: z.string().optional(),
  partnerAction: z.string().min(1),
  subscribe: z.string().min(1),
  mapping: z.record(z.string(), z.unknown()).default({})
})

const idSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be lower-case letters, digits, - and _ (at most 63)')

const destinationInstanceSchema = z
  .strictObject({
    id: idSchema,
    /** A bundled integration (the generated manifest), by its slug. Or `package`. */
    integration: z.string().min(1).optional(),
    /** Which definition of the bundled integration: `destination` (default) or another, e.g. Insider's `audiences`. */
    definition: z.string().min(1).optional(),
    /**
     * Instead of `integration`: an npm package (resolved from the configuration's folder, then the runtime's), or a path
     * (relative to the configuration's folder, or absolute), holding an actions-core destination definition.
     */
    package: z.string().min(1).optional(),
    /** With `package`: the export holding the definition, `default` (the default) or a named one. */
    export: z.string().min(1).optional(),
    settings: z.record(z.string(), z.unknown()).default({}),
    /** `"presets"` turns on the definition's presets; or a list of subscriptions. */
    subscriptions: z.union([z.literal('presets'), z.array(subscriptionSchema).min(1)]).default('presets'),
    enabled: z.boolean().default(true),
    /** This instance's sends in flight at once, instead of `delivery.maxConcurrent` (e.g. for a vendor's rate limit). */
    maxConcurrent: z.number().int().min(1).max(1024).optional(),
    /**
     * How the instance's actions send: `runtime` (default), the runtime's request client over this instance's own
     * connection pool (connections reused); `actions-core`, actions-core's own client, one connection per request.
     */
    client: z.enum(['runtime', 'actions-core']).default('runtime'),
    /**
     * How the instance's actions run: `compiled` (default), each subscription prepared once and run by the runtime's
     * fast path (an action it does not cover falls back to actions-core by itself); `actions-core`, every event
     * through actions-core's `Destination.onEvent` / `onBatch`.
     */
    executor: z.enum(['compiled', 'actions-core']).default('compiled'),
    /** Live transport: let this instance reach private, loopback and link-local addresses (`network.allowPrivateNetworks`). */
    allowPrivateNetworks: z.boolean().optional(),
    /**
     * A vendor rate limit held across every worker process (BullMQ's limiter; needs the redis queue): at most `max`
     * deliveries (events) per `perMs`. None unless configured.
     */
    rateLimit: z.strictObject({ max: z.number().int().min(1), perMs: z.number().int().min(1) }).optional()
  })
  .superRefine((instance, context) => {
    if ((instance.integration === undefined) === (instance.package === undefined))
      context.addIssue({
        code: 'custom',
        path: ['integration'],
        message: 'name either a bundled "integration" or a "package", not both and not neither'
      })
    if (instance.package !== undefined && instance.definition !== undefined)
      context.addIssue({
        code: 'custom',
        path: ['definition'],
        message: 'with "package", name the export with "export"'
      })
    if (instance.integration !== undefined && instance.export !== undefined)
      context.addIssue({
        code: 'custom',
        path: ['export'],
        message: '"export" goes with "package"; a bundled integration takes "definition"'
      })
  })

const sourceInstanceSchema = z.strictObject({
  /** Served at POST /v1/sources/<id>. */
  id: idSchema,
  integration: z.string().min(1),
  source: z.string().min(1).default('source'),
  settings: z.record(z.string(), z.unknown()).default({})
})

export const faultSchema = z.strictObject({
  /** The vendor host the fault applies to, e.g. unification.useinsider.com. */
  host: z.string().min(1),
  /** Answer with this status (and `body`), or drop the connection (`reset`), or answer late (`delayMs`). */
  status: z.number().int().min(100).max(599).optional(),
  body: z.unknown().optional(),
  retryAfterSeconds: z.number().min(0).optional(),
  reset: z.boolean().optional(),
  delayMs: z.number().int().min(0).max(120_000).optional(),
  /** How many requests it affects; unlimited when absent. */
  times: z.number().int().min(1).optional()
})
export type Fault = z.infer<typeof faultSchema>

const sharedQueueShape = {
  /** Names every key (Redis) or schema (PostgreSQL: `oa_<namespace>`), so several runtimes can share one server. */
  namespace: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be letters, digits, ".", "-" and "_" (at most 64)')
    .default('open-actions'),
  /** How long a delivery claimed by a worker that died waits before another worker takes it over. */
  lockDurationMs: z.number().int().min(1000).max(600_000).default(30_000)
}

export const configSchema = z.strictObject({
  /**
   * `sandbox` (default): outbound HTTP goes, over a real loopback socket, to vendor simulators on this machine.
   * `live`: real HTTP to the vendors.
   */
  transport: z.enum(['sandbox', 'live']).default('sandbox'),
  destinations: z.array(destinationInstanceSchema).default([]),
  sources: z.array(sourceInstanceSchema).default([]),
  /**
   * Write keys of the Segment Tracking API (`POST /v1/batch`, `/v1/t`, …): each key, and the destinations its messages
   * go to (every destination when there is no list). Keys are secrets: write them as `${ENV}` references.
   */
  writeKeys: z
    .record(
      z.string().min(8, 'a write key must have at least 8 characters (it is a secret)'),
      z.strictObject({ destinations: z.array(idSchema).min(1).optional() })
    )
    .default({}),
  delivery: z
    .strictObject({
      /** An optional cap on attempts; without one, `retryForMs` alone decides when retrying ends. */
      maxAttempts: z.number().int().min(1).max(10_000).optional(),
      baseDelayMs: z.number().int().min(1).default(250),
      maxDelayMs: z.number().int().min(1).default(300_000),
      /** How long a delivery is retried after it was accepted (or replayed) before it is dead-lettered. */
      retryForMs: z
        .number()
        .int()
        .min(1)
        .default(60 * 60 * 1000),
      /**
       * A bound on one delivery attempt (every request it makes), enforced by the runtime. Unset (default), each
       * request has actions-core's own 10 s timeout; set, the attempt as a whole is aborted after this long (actions-core
       * then leaves its per-request timeout off, as it does whenever it is given a signal).
       */
      attemptTimeoutMs: z.number().int().min(100).max(600_000).optional(),
      /**
       * Sends in flight at once per destination instance; more wait their turn (before a request's timeout starts)
       * instead of queuing for a connection and timing out under load.
       */
      maxConcurrent: z.number().int().min(1).max(1024).default(64)
    })
    .prefault({}),
  batching: z
    .strictObject({
      maxEvents: z.number().int().min(1).max(10_000).default(100),
      maxBytes: z
        .number()
        .int()
        .min(1024)
        .default(1024 * 1024),
      maxWaitMs: z.number().int().min(1).default(1000)
    })
    .prefault({}),
  /**
   * Where accepted events wait for delivery. `embedded` (default): the SQLite store under `stateDir`, one process.
   * `redis` or `postgres`: BullMQ on Redis or on PostgreSQL, shared by any number of API and worker processes
   * (`open-actions start --role`).
   */
  queue: z
    .discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('embedded') }),
      z.strictObject({
        kind: z.literal('redis'),
        /** `redis://[:password@]host:port[/db]` or `rediss://` (TLS); `${ENV}` references work here too. */
        url: z.string().regex(/^rediss?:\/\/[^\s]+$/, 'must be a redis:// or rediss:// URL'),
        ...sharedQueueShape
      }),
      z.strictObject({
        kind: z.literal('postgres'),
        /** `postgres://user[:password]@host:port/database` (or `postgresql://`); `${ENV}` references work here too. */
        url: z.string().regex(/^postgres(ql)?:\/\/[^\s]+$/, 'must be a postgres:// or postgresql:// URL'),
        ...sharedQueueShape
      })
    ])
    .default({ kind: 'embedded' }),
  /** Where the embedded store keeps its state (created 0700, files 0600). One process per directory. */
  stateDir: z.string().min(1).default('.open-actions'),
  store: z
    .strictObject({
      /**
       * `full` (default): each accepted request is fsynced before it is answered, so it survives a power cut.
       * `normal`: written to the OS at once (survives a crash of the process) and to disk later.
       */
      sync: z.enum(['full', 'normal']).default('full')
    })
    .prefault({}),
  /** Deliveries accepted and not yet delivered or dead-lettered, at most; past it, ingestion answers 503. */
  maxBacklogEvents: z.number().int().min(1).default(1_000_000),
  /** A repeated messageId within this window is accepted but not delivered again (24 h, as Segment's API). */
  dedupeWindowMs: z
    .number()
    .int()
    .min(0)
    .default(24 * 60 * 60 * 1000),
  /** How long delivered results and dead letters are kept, and how many at most. */
  retention: z
    .strictObject({
      deliveredMs: z
        .number()
        .int()
        .min(0)
        .default(7 * 24 * 60 * 60 * 1000),
      maxDelivered: z.number().int().min(0).default(1_000_000),
      deadLettersMs: z
        .number()
        .int()
        .min(0)
        .default(30 * 24 * 60 * 60 * 1000),
      maxDeadLetters: z.number().int().min(0).default(1_000_000)
    })
    .prefault({}),
  /** On SIGTERM: how long to finish requests and sends in flight; what is unfinished stays in the store. */
  shutdownTimeoutMs: z.number().int().min(0).default(10_000),
  /** A dead-letter file of an earlier release (NDJSON): imported into the store once, at start. */
  deadLetterFile: z.string().min(1).optional(),
  sandbox: z
    .strictObject({
      faults: z.array(faultSchema).default([]),
      /** Simulators answer without Content-Length (chunked), as most real servers do. */
      chunked: z.boolean().default(false)
    })
    .prefault({}),
  server: z
    .strictObject({
      /**
       * Names the HTTP API answers to in `Host`, besides 127.0.0.1, localhost, [::1] and the address it listens on
       * (e.g. the DNS name a proxy forwards); any other name is refused with 421, so a web page cannot reach the API
       * by pointing a name it controls at this machine (DNS rebinding).
       */
      allowedHosts: z.array(z.string().min(1)).default([])
    })
    .prefault({}),
  network: z
    .strictObject({
      /**
       * Live transport: connections to private, loopback, link-local and metadata addresses are refused (SSRF) unless
       * this is on, here for every instance or on one instance.
       */
      allowPrivateNetworks: z.boolean().default(false),
      /**
       * Live transport: a PEM file of certificate authorities trusted besides Node's own (a TLS-inspecting proxy, a
       * vendor's private endpoint, a test server). Node's `NODE_EXTRA_CA_CERTS` works too.
       */
      caFile: z.string().min(1).optional()
    })
    .prefault({})
})
export type RuntimeConfig = z.output<typeof configSchema>
export type RuntimeConfigInput = z.input<typeof configSchema>

export interface ResolvedDestination {
  readonly id: string
  /** The bundled integration's slug, or the package as configured (a path made absolute). */
  readonly integration: string
  /** Where the definition comes from: the runtime's manifest, or a package loaded at start. */
  readonly origin: 'bundled' | 'package'
  readonly definitionKey: string
  readonly definition: RuntimeDestinationDefinition
  readonly settings: JSONObject
  readonly subscriptions: readonly Subscription[]
  readonly secretKeys: readonly string[]
  /** Sends in flight at once: the instance's own `maxConcurrent`, or `delivery.maxConcurrent`. */
  readonly maxConcurrent: number
  /** The request client its actions send with (see `client` in the configuration). */
  readonly client: 'runtime' | 'actions-core'
  /** How its actions run (see `executor` in the configuration). */
  readonly executor: 'compiled' | 'actions-core'
  /** Live transport: private addresses reachable (the instance's setting, or `network.allowPrivateNetworks`). */
  readonly allowPrivateNetworks: boolean
  /** At most `max` deliveries per `perMs`, across every worker (redis queue). */
  readonly rateLimit?: { readonly max: number; readonly perMs: number }
}

export interface ResolvedSource {
  readonly id: string
  readonly integration: string
  readonly source: RuntimeSourceDefinition
  readonly settings: unknown
  readonly secretKeys: readonly string[]
}

export interface ResolvedConfig {
  readonly config: RuntimeConfig
  readonly destinations: readonly ResolvedDestination[]
  readonly sources: readonly ResolvedSource[]
  /** The certificate authorities of `network.caFile` (PEM), read once. */
  readonly extraCa?: string
  /** The packages instances loaded (`"package"`), as registry entries beside the bundled ones. */
  readonly packages: readonly IntegrationEntry[]
}

/** Every problem of a configuration at once, each naming the file, the instance and the key. */
export class ConfigError extends Error {
  readonly problems: readonly string[]

  constructor(
    readonly file: string,
    problems: readonly string[]
  ) {
    super(`Invalid configuration ${file}:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

const ENV_REFERENCE = /\$\$\{|\$\{([^}]*)\}/g
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * `${NAME}` in any string of the configuration is replaced by the environment variable NAME, so secrets need not be
 * written in the file (`"api_key": "${MOENGAGE_API_KEY}"`); `$${` stands for a literal `${`. A reference to a variable
 * that is not set, or that is not a variable name, is a problem naming the key.
 */
export function expandEnvironment(
  raw: unknown,
  env: Readonly<Record<string, string | undefined>>
): { readonly value: unknown; readonly problems: string[] } {
  const problems: string[] = []
  const walk = (value: unknown, path: readonly PropertyKey[]): unknown => {
    if (typeof value === 'string') {
      if (!value.includes('${')) return value
      return value.replace(ENV_REFERENCE, (whole, name: string | undefined) => {
        if (whole === '$${') return '${'
        if (name === undefined || !ENV_NAME.test(name)) {
          problems.push(
            `${formatPath(withoutWriteKey(path))}: "\${${name ?? ''}}" is not an environment variable reference`
          )
          return whole
        }
        const found = env[name]
        if (found === undefined) {
          problems.push(`${formatPath(withoutWriteKey(path))}: the environment variable ${name} is not set`)
          return whole
        }
        return found
      })
    }
    if (Array.isArray(value)) return value.map((item, index) => walk(item, [...path, index]))
    if (typeof value === 'object' && value !== null) {
      // The keys of `writeKeys` are secrets themselves, so they may be references too.
      const expandKeys = path.length === 1 && path[0] === 'writeKeys'
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => {
          const name = expandKeys ? walk(key, [...path, key]) : key
          return [name, walk(item, [...path, key])]
        })
      )
    }
    return value
  }
  return { value: walk(raw, []), problems }
}

/** A path into `writeKeys` names the key by its position: the key is a secret. */
function withoutWriteKey(path: readonly PropertyKey[]): readonly PropertyKey[] {
  if (path[0] !== 'writeKeys' || path.length < 2 || typeof path[1] !== 'string') return path
  return ['writeKeys', '(a key)', ...path.slice(2)]
}

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((segment, index) =>
      typeof segment === 'number' ? `[${segment}]` : `${index === 0 ? '' : '.'}${String(segment)}`
    )
    .join('')
}

/**
 * Validates a configuration the way it will run: the shape (zod), then each destination's integration,
 * definition, setting keys, settings (actions-core's own settings validation: types, required, choices such
 * as regions), subscriptions (action exists, FQL parses), and each source's settings.
 */
export function resolveConfig(
  raw: unknown,
  registry: Registry,
  file = '(inline configuration)',
  env: Readonly<Record<string, string | undefined>> = process.env
): ResolvedConfig {
  const expanded = expandEnvironment(raw, env)
  if (expanded.problems.length > 0) throw new ConfigError(file, expanded.problems)
  const parsed = configSchema.safeParse(expanded.value)
  if (!parsed.success) {
    throw new ConfigError(
      file,
      parsed.error.issues.map((issue) => {
        // A record key that fails its own rule: zod says "Invalid key in record"; say which rule.
        const inner = issue.code === 'invalid_key' ? issue.issues[0]?.message : undefined
        return `${formatPath(withoutWriteKey(issue.path))}: ${inner ?? issue.message}`
      })
    )
  }
  const config = parsed.data
  const problems: string[] = []
  const installed = [...registry.keys()].join(', ')
  const ids = new Set<string>()

  // Packages are found from the configuration's folder (the file's, or the working directory for inline ones).
  const baseDir = existsSync(file) ? dirname(resolve(file)) : process.cwd()
  const packages = new Map<string, IntegrationEntry>()
  const destinations: ResolvedDestination[] = []
  config.destinations.forEach((instance, index) => {
    const where = `destinations[${index}] "${instance.id}"`
    if (ids.has(instance.id)) problems.push(`${where}: the id is used twice`)
    ids.add(instance.id)
    if (!instance.enabled) return
    let integration: string
    let definitionKey: string
    let definition: RuntimeDestinationDefinition | undefined
    if (instance.package !== undefined) {
      definitionKey = instance.export ?? 'default'
      try {
        const loaded = loadPackage(instance.package, definitionKey, baseDir)
        integration = loaded.entry.slug
        definition = loaded.definition
        if (registry.has(integration))
          return void problems.push(`${where}: package "${instance.package}" has the name of a bundled integration`)
        const known = packages.get(integration)
        packages.set(
          integration,
          known ? { ...known, destinations: { ...known.destinations, ...loaded.entry.destinations } } : loaded.entry
        )
        // A path is kept absolute, so the configuration resolves the same from anywhere.
        config.destinations[index] = { ...instance, package: integration }
      } catch (error) {
        if (!(error instanceof PackageLoadError)) throw error
        return void problems.push(`${where}: package: ${error.message}`)
      }
    } else {
      integration = instance.integration ?? ''
      definitionKey = instance.definition ?? 'destination'
      const entry = registry.get(integration)
      if (!entry)
        return void problems.push(`${where}: integration "${integration}" is not installed (installed: ${installed})`)
      definition = entry.destinations[definitionKey]
      if (!definition) {
        return void problems.push(
          `${where}: ${integration} has no destination "${definitionKey}" (it has: ${Object.keys(entry.destinations).join(', ') || 'none'})`
        )
      }
    }
    const fields = definition.authentication?.fields ?? {}
    for (const key of Object.keys(instance.settings)) {
      if (!(key in fields))
        problems.push(
          `${where}: settings.${key} is not a setting of ${definition.name} (settings: ${Object.keys(fields).join(', ')})`
        )
    }
    try {
      const { Destination } = actionsCoreFor(definition)
      new Destination(definition).validateSettings(instance.settings as JSONObject)
    } catch (error) {
      const message = (error as Error).message
      // actions-core 3.170.0 names its settings schema after the destination; fast-uri 3.1.6+ refuses a name with a
      // space in it as a URI, and every settings check then fails with this message.
      const hint =
        message.includes('URI scheme is malformed') && definition.name.includes(' ')
          ? ` (the actions-core copy this definition runs with uses fast-uri 3.1.6 or later, which fails every destination whose name has a space: pin "fast-uri": "3.1.5" with npm "overrides" where the package is installed)`
          : ''
      problems.push(`${where}: settings: ${message}${hint}`)
    }
    const subscriptions =
      instance.subscriptions === 'presets'
        ? presetSubscriptions(definition)
        : (instance.subscriptions as Subscription[])
    subscriptions.forEach((subscription, position) => {
      const at = `${where}: subscriptions[${position}]`
      if (!definition.actions[subscription.partnerAction]) {
        problems.push(
          `${at}.partnerAction: "${subscription.partnerAction}" is not an action of ${definition.name} (actions: ${Object.keys(definition.actions).join(', ')})`
        )
      }
      const fql = parseFql(subscription.subscribe)
      if ('error' in fql) problems.push(`${at}.subscribe: ${JSON.stringify(subscription.subscribe)} is not valid FQL`)
    })
    const secretKeys = secretSettingKeys(definition)
    destinations.push({
      id: instance.id,
      integration,
      origin: instance.package === undefined ? 'bundled' : 'package',
      definitionKey,
      definition,
      settings: instance.settings as JSONObject,
      subscriptions,
      secretKeys,
      maxConcurrent: instance.maxConcurrent ?? config.delivery.maxConcurrent,
      client: instance.client,
      executor: instance.executor,
      allowPrivateNetworks: instance.allowPrivateNetworks ?? config.network.allowPrivateNetworks,
      ...(instance.rateLimit ? { rateLimit: instance.rateLimit } : {})
    })
  })

  const sources: ResolvedSource[] = []
  config.sources.forEach((instance, index) => {
    const where = `sources[${index}] "${instance.id}"`
    const entry = registry.get(instance.integration)
    if (!entry)
      return void problems.push(
        `${where}: integration "${instance.integration}" is not installed (installed: ${installed})`
      )
    const source = entry.sources[instance.source]
    if (!source) return void problems.push(`${where}: ${instance.integration} has no source "${instance.source}"`)
    if (sources.some((other) => other.id === instance.id)) problems.push(`${where}: the id is used twice`)
    const settings = source.settingsSchema.safeParse(instance.settings)
    if (!settings.success) {
      for (const issue of settings.error.issues)
        problems.push(`${where}: settings.${formatPath(issue.path)} ${issue.message}`)
      return
    }
    sources.push({
      id: instance.id,
      integration: instance.integration,
      source,
      settings: settings.data,
      secretKeys: source.secretSettings
    })
  })

  if (config.queue.kind !== 'embedded' && config.deadLetterFile !== undefined)
    problems.push(
      'deadLetterFile: an earlier release\'s dead-letter file is imported into the embedded store; start once without "queue" to import it'
    )
  if (config.queue.kind === 'embedded')
    config.destinations.forEach((instance, index) => {
      if (instance.rateLimit)
        problems.push(
          `destinations[${index}] "${instance.id}": rateLimit needs a shared queue ("queue": {"kind": "redis" or "postgres", "url": …} or --queue): it is BullMQ's limiter, held across workers`
        )
    })

  const configured = new Set(config.destinations.map((instance) => instance.id))
  Object.entries(config.writeKeys).forEach(([, entry], index) => {
    for (const id of entry.destinations ?? [])
      if (!configured.has(id))
        problems.push(
          `writeKeys (key ${index + 1}).destinations: no destination instance "${id}" is configured (configured: ${[...configured].join(', ') || 'none'})`
        )
  })

  let extraCa: string | undefined
  if (config.network.caFile !== undefined) {
    try {
      extraCa = readFileSync(config.network.caFile, 'utf8')
      if (!extraCa.includes('-----BEGIN CERTIFICATE-----'))
        problems.push(`network.caFile: ${config.network.caFile} holds no PEM certificate`)
    } catch (error) {
      problems.push(`network.caFile: cannot read ${config.network.caFile}: ${(error as Error).message}`)
    }
  }

  if (problems.length > 0) throw new ConfigError(file, problems)
  return {
    config,
    destinations,
    sources,
    packages: [...packages.values()],
    ...(extraCa === undefined ? {} : { extraCa })
  }
}

export function loadConfigFile(file: string, registry: Registry): ResolvedConfig {
  return resolveConfig(readConfigFile(file), registry, file)
}

/** A configuration file's JSON, unchecked. */
export function readConfigFile(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown
  } catch (error) {
    throw new ConfigError(file, [`cannot read it as JSON: ${(error as Error).message}`])
  }
}

/**
 * Every secret value in a configuration: the password settings of destinations, the secret settings of sources and the
 * Tracking API's write keys.
 */
export function configSecrets(resolved: ResolvedConfig): string[] {
  const secrets: string[] = []
  for (const destination of resolved.destinations) {
    for (const key of destination.secretKeys) {
      const value = destination.settings[key]
      if (typeof value === 'string') secrets.push(value)
    }
  }
  secrets.push(...Object.keys(resolved.config.writeKeys))
  const { queue } = resolved.config
  if (queue.kind !== 'embedded') {
    const password = urlPassword(queue.url)
    if (password) secrets.push(password, encodeURIComponent(password))
  }
  for (const source of resolved.sources) {
    for (const key of source.secretKeys) {
      const value = (source.settings as Record<string, unknown>)[key]
      if (typeof value === 'string') secrets.push(value)
    }
  }
  return secrets
}

/** The password in a server URL (`redis://:secret@host`, `postgres://user:secret@host/db`), decoded. */
export function urlPassword(url: string): string | undefined {
  try {
    const password = new URL(url).password
    return password === '' ? undefined : decodeURIComponent(password)
  } catch {
    return undefined
  }
}

/**
 * What every process sharing a queue must agree on, as a SHA-256: the instances, their settings and subscriptions,
 * sources, write keys and delivery rules. Per-process settings (state directory, shutdown time, server names, sandbox
 * faults) are left out.
 */
export function configurationHash(resolved: ResolvedConfig): string {
  const { config } = resolved
  const shared = {
    transport: config.transport,
    destinations: config.destinations,
    sources: config.sources,
    writeKeys: config.writeKeys,
    delivery: config.delivery,
    batching: config.batching,
    dedupeWindowMs: config.dedupeWindowMs,
    retention: config.retention,
    queue:
      config.queue.kind === 'embedded' ? config.queue : { kind: config.queue.kind, namespace: config.queue.namespace }
  }
  return createHash('sha256').update(canonicalJson(shared)).digest('hex')
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (typeof value === 'object' && value !== null)
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
      .join(',')}}`
  return JSON.stringify(value) ?? 'null'
}
