import type { DestinationDefinition } from '@segment/actions-core'
import { presetsFromActions } from '@open-actions/core'
import { cartViewedEvent, checkoutEvent, orderCompletedEvent } from './actions/multi-product-events'
import { productAddedEvent, productRemovedEvent, productViewedEvent } from './actions/product-events'
import { pageViewedEvent } from './actions/page-viewed'
import { productListViewedEvent } from './actions/product-list-viewed'
import { trackEvent } from './actions/track-event'
import { updateUserProfile } from './actions/update-user-profile'
import { userRegisteredEvent } from './actions/user-registered'
import { checkCredentials, insiderHeaders, type InsiderSettings } from './insider-api'
import { insiderSettingsFields } from './insider-settings'

const actions = {
  updateUserProfile,
  trackEvent,
  productListViewedEvent,
  productViewedEvent,
  productAddedEvent,
  productRemovedEvent,
  cartViewedEvent,
  checkoutEvent,
  orderCompletedEvent,
  userRegisteredEvent,
  pageViewedEvent
}

export const destination: DestinationDefinition<InsiderSettings> = {
  name: 'Insider One Cloud Mode (Actions)',
  slug: 'open-actions-insider',
  mode: 'cloud',
  description:
    'Send Segment identify and track calls to Insider One: user profiles, e-commerce events and custom events.',
  authentication: {
    scheme: 'custom',
    fields: insiderSettingsFields,
    testAuthentication: (request) => checkCredentials(request)
  },
  extendRequest: ({ settings }) => ({ headers: insiderHeaders(settings, true) }),
  presets: presetsFromActions(actions),
  actions
}
