import { defineFields, type InferPayload } from '@open-actions/core'
import { insiderAction } from '../insider-action'
import { contextParams, eventParams, insiderEvent, withContext } from '../insider-mapping'
import { eventActionFields, eventUser } from '../insider-track'

/** The Insider event a Segment page call becomes (see the README: Insider has no standard page event). */
export const PAGE_EVENT_NAME = 'page_view'

const fields = defineFields({
  ...eventActionFields,
  page_name: {
    label: 'Page Name',
    description: 'The page’s name (Segment `name`), sent as the custom parameter `page_name`.',
    type: 'string',
    default: { '@path': '$.name' }
  },
  page_category: {
    label: 'Page Category',
    description: 'The page’s category (Segment `category`), sent as the custom parameter `page_category`.',
    type: 'string',
    default: { '@path': '$.category' }
  }
})
export type PageViewedPayload = InferPayload<typeof fields>

export const pageViewedEvent = insiderAction<PageViewedPayload>({
  title: 'Page Viewed',
  description:
    'Record Segment page calls (the seed collects the Page spec) as Insider page_view events: url and referrer as standard parameters, the title, path, search, page name and category and every other property as parameters.',
  defaultSubscription: 'type = "page"',
  fields,
  toUser: (payload, notes) => {
    const params = eventParams(payload.custom_parameters)
    const custom = { ...(params.custom ?? {}) }
    if (payload.page_name !== undefined) custom.page_name = payload.page_name
    if (payload.page_category !== undefined) custom.page_category = payload.page_category
    return eventUser(
      payload,
      [
        insiderEvent(
          PAGE_EVENT_NAME,
          payload.timestamp,
          withContext({ ...params, ...(Object.keys(custom).length > 0 ? { custom } : {}) }, contextParams(payload))
        )
      ],
      notes
    )
  }
})
