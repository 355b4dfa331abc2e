import type { ActionDefinition } from '@segment/actions-core'
import { defineFields, type InferPayload } from '@open-actions/core'
import { checkWorkflows, deliverToWorkflows, matchingWorkflows } from '../tray-delivery'
import { CHANNELS, MESSAGE_TYPES, type TraySettings } from '../tray-settings'

const fields = defineFields({
  message: {
    label: 'Message',
    description: 'The Segment message, sent to each workflow as it is.',
    type: 'object',
    required: true,
    default: { '@path': '$.' }
  },
  type: {
    label: 'Message Type',
    description: 'Used for each workflow’s Allowed Events.',
    type: 'string',
    required: true,
    default: { '@path': '$.type' }
  },
  channel: {
    label: 'Channel',
    description: 'Used for each workflow’s Channels: server, browser or mobile.',
    type: 'string',
    default: { '@path': '$.channel' }
  },
  message_id: {
    label: 'Message ID',
    description:
      'Not used any more (which workflows a retry reaches is kept per event by the runtime, through actions-core’s stateContext); kept so existing mappings stay valid.',
    type: 'string',
    default: { '@path': '$.messageId' }
  },
  workflows: {
    label: 'Workflows',
    description: 'Which of the configured workflow URLs this subscription sends to; all of them when empty.',
    type: 'string',
    multiple: true
  },
  allowed_events: {
    label: 'Allowed Events',
    description:
      'Only these message types reach the workflows (the Segment trigger’s "Allowed events"); all when empty.',
    type: 'string',
    multiple: true,
    choices: [...MESSAGE_TYPES]
  },
  channels: {
    label: 'Channels',
    description: 'Only messages from these channels; all when empty.',
    type: 'string',
    multiple: true,
    choices: [...CHANNELS]
  }
})
export type SendToWorkflowsPayload = InferPayload<typeof fields>

export const sendToWorkflows: ActionDefinition<TraySettings, SendToWorkflowsPayload> = {
  title: 'Send to Workflows',
  description:
    'POST the raw Segment message to every Tray workflow whose Allowed Events and Channels accept it, signed when a shared secret is set.',
  defaultSubscription: MESSAGE_TYPES.map((type) => `type = "${type}"`).join(' or '),
  fields,
  perform: async (request, { settings, payload, stateContext }) => {
    const filter = { workflows: payload.workflows, allowedEvents: payload.allowed_events, channels: payload.channels }
    const checked = checkWorkflows(settings)
    const workflows = matchingWorkflows(checked, settings.workflows, filter, payload.type, payload.channel)
    const notes = {
      ...(checked.skipped.length > 0 ? { skipped: checked.skipped } : {}),
      ...(checked.warnings.length > 0 ? { warnings: checked.warnings } : {})
    }
    if (workflows.length === 0)
      return {
        workflows: [],
        note: `this subscription sends no ${payload.type} messages${payload.channel ? ` from ${payload.channel}` : ''} to any workflow`,
        ...notes
      }
    const outcomes = await deliverToWorkflows(request, settings, workflows, payload.message, stateContext)
    return { workflows: outcomes.map((outcome) => ({ url: outcome.url, status: outcome.status })), ...notes }
  }
}
