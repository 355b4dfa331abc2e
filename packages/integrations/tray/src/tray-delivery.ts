import { createHmac } from 'node:crypto'
import type { JSONLikeObject, RequestClient, StateContext } from '@segment/actions-core'
import { IntegrationError } from '@segment/actions-core'
import { errorDetails, InvalidSettingError, sendVendorRequest, VendorRetryableError } from '@open-actions/core'
import { MAX_WORKFLOWS, sharedSecretOf, type TraySettings } from './tray-settings'
import { checkWorkflowUrl, createGuardedAgent } from './workflow-url'

/** `X-Signature`: the hex HMAC-SHA1 of the exact body bytes, with the shared secret (the classic Tray integration). */
export function signBody(body: string, secret: string): string {
  return createHmac('sha1', secret).update(body, 'utf8').digest('hex')
}

export interface CheckedWorkflow {
  /** The URL as configured, which subscriptions use to pick workflows. */
  readonly url: string
  readonly target: URL
}

export interface SkippedWorkflow {
  readonly url: string
  readonly reason: string
}

export interface CheckedWorkflows {
  readonly workflows: CheckedWorkflow[]
  /** Invalid URLs, left out with their reason, and URLs past the first 10. */
  readonly skipped: SkippedWorkflow[]
  readonly warnings: string[]
}

/**
 * The workflows that may receive messages, as the classic integration chose them: the first 10 URLs, each invalid
 * one skipped with its reason while the others still receive. Only when none is usable does the setting fail.
 */
export function checkWorkflows(settings: TraySettings): CheckedWorkflows {
  const warnings: string[] = []
  const skipped: SkippedWorkflow[] = []
  const considered = settings.workflows.slice(0, MAX_WORKFLOWS)
  if (settings.workflows.length > MAX_WORKFLOWS) {
    warnings.push(
      `${settings.workflows.length} workflows are configured; only the first ${MAX_WORKFLOWS} receive messages`
    )
    for (const url of settings.workflows.slice(MAX_WORKFLOWS))
      skipped.push({ url, reason: `past the first ${MAX_WORKFLOWS} workflows` })
  }
  const workflows: CheckedWorkflow[] = []
  considered.forEach((url, index) => {
    try {
      workflows.push({ url, target: checkWorkflowUrl(url, index, settings.allow_insecure_urls ?? false) })
    } catch (error) {
      skipped.push({ url, reason: (error as Error).message })
    }
  })
  if (workflows.length === 0)
    throw new InvalidSettingError(
      'workflows',
      `no workflow URL can receive messages: ${skipped.map((entry) => entry.reason).join('; ') || 'none is configured'}`
    )
  return { workflows, skipped, warnings }
}

/** The connection test: every configured URL must be usable (delivery is lenient; a test says what is wrong). */
export function assertWorkflowsValid(settings: TraySettings): void {
  const { skipped, warnings } = checkWorkflows(settings)
  const invalid = skipped.find((entry) => !entry.reason.startsWith('past the first'))
  if (invalid) throw new InvalidSettingError('workflows', `${invalid.url}: ${invalid.reason}`)
  if (warnings.length > 0) throw new InvalidSettingError('workflows', warnings.join('; '))
}

export interface WorkflowFilter {
  /** Configured workflow URLs this subscription sends to; all when empty. */
  readonly workflows?: readonly string[]
  /** "Allowed events": message types; all when empty. */
  readonly allowedEvents?: readonly string[]
  /** Channels (server, browser, mobile); all when empty. */
  readonly channels?: readonly string[]
}

/**
 * The workflows that receive a message of this type and channel under this filter. A subscription naming a URL that
 * is not configured at all is a mistake to report; one naming a configured URL that was skipped (invalid, or past the
 * first 10) just does not receive, and the result says why.
 */
export function matchingWorkflows(
  checked: CheckedWorkflows,
  configured: readonly string[],
  filter: WorkflowFilter,
  type: string | undefined,
  channel: string | undefined
): CheckedWorkflow[] {
  const typeAllowed = !filter.allowedEvents?.length || (type !== undefined && filter.allowedEvents.includes(type))
  const channelAllowed = !filter.channels?.length || (channel !== undefined && filter.channels.includes(channel))
  if (!typeAllowed || !channelAllowed) return []
  if (!filter.workflows?.length) return [...checked.workflows]
  const unknown = filter.workflows.filter((url) => !configured.includes(url))
  if (unknown.length > 0)
    throw new InvalidSettingError(
      'workflows',
      `the subscription names workflows that are not configured: ${unknown.join(', ')}`
    )
  return checked.workflows.filter((workflow) => filter.workflows?.includes(workflow.url))
}

export interface WorkflowOutcome {
  readonly url: string
  readonly status: number | 'skipped'
  readonly error?: string
  readonly retryable?: boolean
}

/** The per-event state key saying this workflow has the message (see `deliverToWorkflows`). */
const deliveredKey = (url: string) => `tray-delivered:${url}`

async function postToWorkflow(
  request: RequestClient,
  workflow: CheckedWorkflow,
  body: string,
  settings: TraySettings
): Promise<void> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' }
  const secret = sharedSecretOf(settings)
  if (secret) headers['X-Signature'] = signBody(body, secret)
  // One agent per request: the guard never shares sockets (actions-core destroys an agent after its response). A
  // runtime that sends with its own client and egress rules may set it aside; nothing here asks which runtime runs it.
  const agent = settings.allow_insecure_urls ? undefined : createGuardedAgent()
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
  // Redirects are not followed: the next hop would escape the URL check (a 3xx is reported as the workflow's failure).
  await sendVendorRequest(
    guarded,
    workflow.target.toString(),
    { method: 'POST', body, headers, redirect: 'manual', ...(agent ? { agent } : {}) },
    { vendor: `Tray workflow ${workflow.target.origin}` }
  )
}

/**
 * One POST per matching workflow, all at once. Each workflow's failure is reported for that workflow (never hidden by
 * the others' success); the event fails, retryably if any failed workflow's status is retryable. With the runtime's
 * `stateContext` (per event, kept across its retries), a retry goes only to the workflows that have not received it;
 * without one, a retry reaches every workflow again. Nothing is kept in the process.
 */
export async function deliverToWorkflows(
  request: RequestClient,
  settings: TraySettings,
  workflows: readonly CheckedWorkflow[],
  message: JSONLikeObject,
  stateContext: StateContext | undefined
): Promise<WorkflowOutcome[]> {
  const body = JSON.stringify(message)
  const outcomes = await Promise.all(
    workflows.map(async (workflow): Promise<WorkflowOutcome> => {
      const url = workflow.target.toString()
      if (stateContext?.getRequestContext(deliveredKey(url)) === 'yes')
        return { url, status: 'skipped', error: 'already delivered' }
      try {
        await postToWorkflow(request, workflow, body, settings)
        stateContext?.setResponseContext(deliveredKey(url), 'yes', { hour: 24 })
        return { url, status: 200 }
      } catch (error) {
        const { status, message: text, retryable } = errorDetails(error)
        return { url, status: status ?? 500, error: text, retryable: retryable === true }
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
