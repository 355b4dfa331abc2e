import type { InferPayload } from '@open-actions/core'
import { insiderAction } from '../insider-action'
import { contextParams, eventParams, insiderEvent, withContext } from '../insider-mapping'
import { eventActionFields, eventUser } from '../insider-track'

export type UserRegisteredPayload = InferPayload<typeof eventActionFields>

export const userRegisteredEvent = insiderAction<UserRegisteredPayload>({
  title: 'User Registered',
  description: 'Record User Registered as Insider’s sign_up_confirmation event, every property as a parameter.',
  defaultSubscription: 'type = "track" and event = "User Registered"',
  fields: eventActionFields,
  toUser: (payload, notes) =>
    eventUser(
      payload,
      [
        insiderEvent(
          'sign_up_confirmation',
          payload.timestamp,
          withContext(eventParams(payload.custom_parameters), contextParams(payload))
        )
      ],
      notes
    )
})
