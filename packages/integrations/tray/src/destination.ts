import type { DestinationDefinition } from '@segment/actions-core'
import { defaultValues } from '@segment/actions-core'
import { sendToWorkflows } from './actions/send-to-workflows'
import { checkWorkflows, deliverToWorkflows } from './tray-delivery'
import { type TraySettings, traySettingsFields } from './tray-settings'

export const destination: DestinationDefinition<TraySettings> = {
  name: 'Tray.io (Actions)',
  slug: 'open-actions-tray',
  mode: 'cloud',
  description: 'Send raw Segment messages to up to 10 Tray.io workflows, optionally signed with a shared secret.',
  authentication: {
    scheme: 'custom',
    fields: traySettingsFields,
    // Tray workflow URLs have no credentials to test; checking them (https, public hosts, at most 10) is what can fail.
    testAuthentication: (_request, { settings }) => {
      checkWorkflows(settings)
    }
  },
  presets: [
    {
      name: 'Send to Workflows',
      subscribe: sendToWorkflows.defaultSubscription ?? '',
      partnerAction: 'sendToWorkflows',
      mapping: defaultValues(sendToWorkflows.fields),
      type: 'automatic'
    }
  ],
  actions: { sendToWorkflows },
  // Deletion requests reach every workflow as { type: 'delete', userId, timestamp } (Segment's Tray.io docs).
  onDelete: async (request, { settings, payload }) => {
    const userId = (payload as { userId?: unknown }).userId
    const message = {
      type: 'delete',
      userId: typeof userId === 'string' ? userId : null,
      timestamp: new Date().toISOString()
    }
    const outcomes = await deliverToWorkflows(request, settings, checkWorkflows(settings), message, undefined)
    return { workflows: outcomes.map((outcome) => ({ url: outcome.url, status: outcome.status })) }
  }
}
