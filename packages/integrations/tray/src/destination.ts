import type { DestinationDefinition } from '@segment/actions-core'
import { presetsFromActions } from '@open-actions/core'
import { sendToWorkflows } from './actions/send-to-workflows'
import { assertWorkflowsValid, checkWorkflows, deliverToWorkflows } from './tray-delivery'
import { type TraySettings, traySettingsFields } from './tray-settings'

export const destination: DestinationDefinition<TraySettings> = {
  name: 'Tray.io (Actions)',
  slug: 'open-actions-tray',
  mode: 'cloud',
  description:
    'Send raw Segment messages to up to 10 Tray.io workflows (the first 10; invalid URLs skipped), optionally signed with a shared secret.',
  authentication: {
    scheme: 'custom',
    fields: traySettingsFields,
    // Tray workflow URLs have no credentials to test; checking them (https, public hosts, at most 10) is what can fail.
    testAuthentication: (_request, { settings }) => {
      assertWorkflowsValid(settings)
    }
  },
  presets: presetsFromActions({ sendToWorkflows }),
  actions: { sendToWorkflows },
  // Deletion requests reach every workflow as { type: 'delete', userId, timestamp } (Segment's Tray.io docs).
  onDelete: async (request, { settings, payload }) => {
    const userId = (payload as { userId?: unknown }).userId
    const message = {
      type: 'delete',
      userId: typeof userId === 'string' ? userId : null,
      timestamp: new Date().toISOString()
    }
    const outcomes = await deliverToWorkflows(request, settings, checkWorkflows(settings).workflows, message, undefined)
    return { workflows: outcomes.map((outcome) => ({ url: outcome.url, status: outcome.status })) }
  }
}
