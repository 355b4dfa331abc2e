import { compact } from '@open-actions/core'
import type { InferPayload } from '@open-actions/core'
import { pageFields } from './page-fields'
import { commonMessage, sendMessageAction } from './send-message'

export type SendPagePayload = InferPayload<typeof pageFields>

export const sendPage = sendMessageAction<SendPagePayload>({
  title: 'Send Page',
  description: 'Send a page call to Segment: a web page the user viewed.',
  defaultSubscription: 'type = "page"',
  fields: pageFields,
  toMessage: (payload) =>
    compact({
      type: 'page',
      ...commonMessage(payload),
      name: payload.name,
      category: payload.category,
      properties: payload.properties
    })
})
