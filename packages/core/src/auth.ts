import type {
  DestinationDefinition,
  GlobalSetting,
  JSONObject,
  RequestClient,
  RequestOptions
} from '@segment/actions-core'
import { createRequestClient, getAuthData, IntegrationError } from '@segment/actions-core'
import { errorDetails } from './error-details'

/** `Authorization` value for HTTP Basic: base64 of `username:password` (the password may be empty). */
export function basicAuthorization(username: string, password = ''): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`
}

/** `Authorization: Key <key>` (OneSignal's scheme for App and Organization keys). */
export function keyAuthorization(key: string): string {
  return `Key ${key}`
}

export function bearerAuthorization(token: string): string {
  return `Bearer ${token}`
}

/** Headers for vendors that authenticate with their own header names (e.g. Insider's `X-REQUEST-TOKEN`). */
export function customHeaderAuthorization(headers: Readonly<Record<string, string>>): Record<string, string> {
  return { ...headers }
}

export type AuthenticationOutcome =
  | { readonly ok: true }
  | {
      readonly ok: false
      readonly error: {
        readonly name: string
        readonly code: string
        readonly status: number
        readonly message: string
        /**
         * The settings to look at: the one an `InvalidSettingError` names, or the credentials (the `password`
         * settings) when the vendor refused them; empty when the failure is not the settings' fault (a 503).
         */
        readonly settings: readonly string[]
      }
    }

type AuthenticationFailure = Extract<AuthenticationOutcome, { ok: false }>['error']

function describeError(error: unknown, credentials: readonly string[]): AuthenticationFailure {
  const details = errorDetails(error)
  const status = details.status ?? 500
  const code = details.code ?? (status === 401 || status === 403 ? 'INVALID_AUTHENTICATION' : 'UNKNOWN_ERROR')
  const setting = (error as { setting?: unknown }).setting
  return {
    name: details.name,
    code,
    status,
    message: details.message,
    settings:
      typeof setting === 'string'
        ? [setting]
        : code === 'INVALID_AUTHENTICATION' || status === 401 || status === 403
          ? [...credentials]
          : []
  }
}

/**
 * Runs a definition's `testAuthentication` the way actions-core's `Destination.testAuthentication` does
 * (same request client, same `extendRequest`), but keeps the error's class, code and status: actions-core
 * rethrows every failure as a plain `Error('Credentials are invalid: …')`, which loses all three.
 * Settings must already be valid (run `new Destination(definition).validateSettings(settings)` first).
 */
export async function testAuthentication<Settings extends object>(
  definition: DestinationDefinition<Settings>,
  settings: Settings,
  options: {
    /** Builds the request client from the definition's `extendRequest` options (a runtime's own transport). */
    readonly requestClient?: (extendOptions: RequestOptions) => RequestClient
  } = {}
): Promise<AuthenticationOutcome> {
  const test = definition.authentication?.testAuthentication
  if (!test) return { ok: true }
  const auth = getAuthData(settings as unknown as JSONObject)
  const extendOptions = definition.extendRequest?.({ settings, payload: undefined, auth }) ?? {}
  const requestClient = options.requestClient
    ? options.requestClient(extendOptions)
    : createRequestClient({ ...extendOptions })
  try {
    const result: unknown = await test(requestClient, { settings, auth })
    if (result === false) {
      throw new IntegrationError('The vendor rejected these credentials', 'INVALID_AUTHENTICATION', 401)
    }
    return { ok: true }
  } catch (error) {
    return { ok: false, error: describeError(error, secretSettingKeys(definition)) }
  }
}

/** The keys of every `password` setting of a definition: the values that must never leave the runtime. */
export function secretSettingKeys(definition: {
  authentication?: { fields: Record<string, GlobalSetting> }
}): string[] {
  const fields = definition.authentication?.fields ?? {}
  return Object.keys(fields).filter((key) => fields[key]?.type === 'password')
}

export const REDACTED = '[REDACTED]'

/** A copy of the settings with every secret value replaced by `[REDACTED]` (empty secrets stay empty). */
export function redactSettings<Settings extends JSONObject | Record<string, unknown>>(
  settings: Settings,
  secretKeys: readonly string[]
): Settings {
  const copy: Record<string, unknown> = { ...settings }
  for (const key of secretKeys) {
    if (copy[key] !== undefined && copy[key] !== '') copy[key] = REDACTED
  }
  return copy as Settings
}
