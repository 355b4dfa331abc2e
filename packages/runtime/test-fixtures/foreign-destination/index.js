'use strict'
// A destination as a third party would publish it: plain CommonJS, its own @segment/actions-core. Loaded by the runtime
// from a packed and installed copy, so every class it uses (MultiStatusResponse, the errors) comes from that copy.
const { IntegrationError, MultiStatusResponse, RetryableError } = require('@segment/actions-core')

const send = {
  title: 'Send',
  description: 'Sends a track event to the endpoint; in batches, items marked `fail` are refused one by one.',
  defaultSubscription: 'type = "track"',
  fields: {
    event: {
      label: 'Event',
      description: 'The event name.',
      type: 'string',
      required: true,
      default: { '@path': '$.event' }
    },
    message_id: {
      label: 'Message ID',
      description: 'The message id.',
      type: 'string',
      default: { '@path': '$.messageId' }
    },
    fail: {
      label: 'Fail',
      description: 'Refuse this item.',
      type: 'boolean',
      default: { '@path': '$.properties.fail' }
    },
    outcome: {
      label: 'Outcome',
      description: 'How a single send ends.',
      type: 'string',
      default: { '@path': '$.properties.outcome' }
    },
    enable_batching: { label: 'Batch', description: 'Send in batches.', type: 'boolean', default: false }
  },
  perform: (request, { settings, payload }) => {
    if (payload.outcome === 'invalid')
      throw new IntegrationError('the endpoint refuses this event', 'INVALID_EVENT', 400)
    if (payload.outcome === 'later') throw new RetryableError('the endpoint is busy', 503)
    return request(`${settings.endpoint}/events`, { method: 'POST', json: payload })
  },
  performBatch: async (request, { settings, payload }) => {
    const response = new MultiStatusResponse()
    const accepted = []
    payload.forEach((item, index) => {
      if (item.fail) response.setErrorResponseAtIndex(index, { status: 400, errormessage: `item ${index} is refused` })
      else accepted.push(index)
    })
    if (accepted.length > 0) {
      await request(`${settings.endpoint}/batch`, {
        method: 'POST',
        json: { items: accepted.map((index) => payload[index]) }
      })
      for (const index of accepted)
        response.setSuccessResponseAtIndex(index, { status: 200, sent: payload[index], body: 'ok' })
    }
    return response
  }
}

const destination = {
  name: 'Foreign Fixture',
  slug: 'foreign-fixture',
  mode: 'cloud',
  description: 'A third-party destination for the runtime tests.',
  authentication: {
    scheme: 'custom',
    fields: {
      endpoint: { label: 'Endpoint', description: 'Where to send.', type: 'string', format: 'uri', required: true },
      api_key: { label: 'API key', description: 'Sent as X-Api-Key.', type: 'password', required: true }
    }
  },
  extendRequest: ({ settings }) => ({ headers: { 'x-api-key': settings.api_key } }),
  presets: [
    {
      name: 'Send tracks',
      subscribe: 'type = "track"',
      partnerAction: 'send',
      mapping: {
        event: { '@path': '$.event' },
        message_id: { '@path': '$.messageId' },
        fail: { '@path': '$.properties.fail' },
        outcome: { '@path': '$.properties.outcome' }
      },
      type: 'automatic'
    }
  ],
  actions: { send },
  onDelete: (request, { settings, payload }) =>
    request(`${settings.endpoint}/users/${encodeURIComponent(payload.userId)}`, { method: 'DELETE' })
}

module.exports = { default: destination, destination, notADestination: { name: 'Nothing here' } }
