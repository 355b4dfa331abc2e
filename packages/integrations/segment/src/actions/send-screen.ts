import { compact } from '@open-actions/core'
import type { InferPayload } from '@open-actions/core'
import { pageFields } from './page-fields'
import { commonMessage, sendMessageAction } from './send-message'

export type SendScreenPayload = InferPayload<typeof pageFields>

export const sendScreen = sendMessageAction<SendScreenPayload>({
  title: 'Send Screen',
  description: 'Send a screen call to Segment: an app screen the user viewed.',
  defaultSubscription: 'type = "screen"',
  fields: pageFields,
  toMessage: (payload) =>
    compact({
      type: 'screen',
      ...commonMessage(payload),
      name: payload.name,
      category: payload.category,
      properties: payload.properties
    })
})
