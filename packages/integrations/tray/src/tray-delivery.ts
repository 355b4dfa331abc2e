import { createHmac } from 'node:crypto'
import https from 'node:https'
import type { JSONLikeObject, RequestClient } from '@segment/actions-core'
import { IntegrationError } from '@segment/actions-core'
import { errorDetails, InvalidSettingError, sendVendorRequest, VendorRetryableError } from '@open-actions/core'
import { MAX_WORKFLOWS, type TraySettings } from './tray-settings'
import { checkWorkflowUrl, guardedHttpsAgent } from './workflow-url'

/** `X-Signature`: the hex HMAC-SHA1 of the exact body bytes, with the shared secret (the classic Tray integration). */
export function signBody(body: string, secret: string): string {
  return createHmac('sha1', secret).update(body, 'utf8').digest('hex')
}

export interface CheckedWorkflow {
  /** The URL as configured, which subscriptions use to pick workflows. */
  readonly url: string
  readonly target: URL
}

/** All workflows checked before anything is sent: more than 10, or one unsafe URL, fails the whole setting. */
export function checkWorkflows(settings: TraySettings): CheckedWorkflow[] {
  if (settings.workflows.length > MAX_WORKFLOWS) {
    throw new InvalidSettingError(
      'workflows',
      `at most ${MAX_WORKFLOWS} workflows can receive messages; ${settings.workflows.length} are configured`
    )
  }
  return settings.workflows.map((url, index) => ({
    url,
    target: checkWorkflowUrl(url, index, settings.allow_insecure_urls ?? false)
  }))
}

export interface WorkflowFilter {
  /** Configured workflow URLs this subscription sends to; all when empty. */
  readonly workflows?: readonly string[]
  /** "Allowed events": message types; all when empty. */
  readonly allowedEvents?: readonly string[]
  /** Channels (server, browser, mobile); all when empty. */
  readonly channels?: readonly string[]
}

/** The workflows that receive a message of this type and channel under this filter. */
export function matchingWorkflows(
  workflows: readonly CheckedWorkflow[],
  filter: WorkflowFilter,
  type: string | undefined,
  channel: string | undefined
): CheckedWorkflow[] {
  const typeAllowed = !filter.allowedEvents?.length || (type !== undefined && filter.allowedEvents.includes(type))
  const channelAllowed = !filter.channels?.length || (channel !== undefined && filter.channels.includes(channel))
  if (!typeAllowed || !channelAllowed) return []
  if (!filter.workflows?.length) return [...workflows]
  const unknown = filter.workflows.filter((url) => !workflows.some((workflow) => workflow.url === url))
  if (unknown.length > 0)
    throw new InvalidSettingError(
      'workflows',
      `the subscription names workflows that are not configured: ${unknown.join(', ')}`
    )
  return workflows.filter((workflow) => filter.workflows?.includes(workflow.url))
}

/**
 * Which (message, workflow) pairs were delivered, so a retried event goes only to the workflows that failed.
 * In-process and bounded: after a restart or eviction a retry may reach a workflow twice, with the same messageId.
 */
const delivered = new Map<string, number>()
const MAX_REMEMBERED = 50_000
const REMEMBER_MS = 60 * 60 * 1000

function rememberDelivery(key: string): void {
  if (delivered.size >= MAX_REMEMBERED) {
    const oldest = delivered.keys().next().value
    if (oldest !== undefined) delivered.delete(oldest)
  }
  delivered.set(key, Date.now())
}

function wasDelivered(key: string): boolean {
  const at = delivered.get(key)
  if (at === undefined) return false
  if (Date.now() - at > REMEMBER_MS) {
    delivered.delete(key)
    return false
  }
  return true
}

export interface WorkflowOutcome {
  readonly url: string
  readonly status: number | 'skipped'
  readonly error?: string
  readonly retryable?: boolean
}

/**
 * Whether a runtime's sandbox will answer this request (Open Actions' runtime marks its global agent so): the
 * request then never leaves the machine, and the SSRF-guarded agent, which would resolve the real host, is not used.
 */
function routedToSandbox(): boolean {
  const marker = (https.globalAgent as unknown as Record<symbol, unknown>)[Symbol.for('open-actions.sandbox-agent')]
  return typeof marker === 'function' && marker() === true
}

async function postToWorkflow(
  request: RequestClient,
  workflow: CheckedWorkflow,
  body: string,
  settings: TraySettings
): Promise<void> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' }
  if (settings.shared_secret) headers['X-Signature'] = signBody(body, settings.shared_secret)
  const agent = settings.allow_insecure_urls || routedToSandbox() ? undefined : guardedHttpsAgent
  const guarded: RequestClient = async (url, options) => {
    try {
      return await request(url, options)
    } catch (error) {
      if ((error as { code?: unknown }).code === 'EBLOCKEDADDRESS')
        throw new InvalidSettingError(
          'workflows',
          (error as Error).message.replace(/^request to .* failed, reason: /, '')
        )
      throw error
    }
  }
  await sendVendorRequest(
    guarded,
    workflow.target.toString(),
    { method: 'POST', body, headers, ...(agent ? { agent } : {}) },
    { vendor: `Tray workflow ${workflow.target.origin}` }
  )
}

/**
 * One POST per matching workflow, all at once. Each workflow's failure is reported for that workflow (never
 * hidden by the others' success); the event fails, retryably if any failed workflow's status is retryable,
 * and a retry goes only to the workflows that have not received it.
 */
export async function deliverToWorkflows(
  request: RequestClient,
  settings: TraySettings,
  workflows: readonly CheckedWorkflow[],
  message: JSONLikeObject,
  messageKey: string | undefined
): Promise<WorkflowOutcome[]> {
  const body = JSON.stringify(message)
  const outcomes = await Promise.all(
    workflows.map(async (workflow): Promise<WorkflowOutcome> => {
      const url = workflow.target.toString()
      const key = messageKey === undefined ? undefined : `${messageKey}\u0000${url}`
      if (key !== undefined && wasDelivered(key)) return { url, status: 'skipped', error: 'already delivered' }
      try {
        await postToWorkflow(request, workflow, body, settings)
        if (key !== undefined) rememberDelivery(key)
        return { url, status: 200 }
      } catch (error) {
        const { status, message: text } = errorDetails(error)
        return {
          url,
          status: status ?? 500,
          error: text,
          retryable: error instanceof VendorRetryableError
        }
      }
    })
  )
  const failures = outcomes.filter((outcome) => outcome.error !== undefined && outcome.status !== 'skipped')
  if (failures.length === 0) return outcomes
  const summary = failures.map((failure) => `${failure.url} → ${failure.error}`).join('; ')
  const retryable = failures.find((failure) => failure.retryable)
  if (retryable)
    throw new VendorRetryableError(`${failures.length} of ${workflows.length} Tray workflows failed: ${summary}`, 503)
  const status = failures[0]?.status
  throw new IntegrationError(
    `${failures.length} of ${workflows.length} Tray workflows failed: ${summary}`,
    'WORKFLOW_DELIVERY_FAILED',
    typeof status === 'number' ? status : 400
  )
}
