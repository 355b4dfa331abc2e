import { defineFields, eventFields, type InferPayload, parsePayload } from '@open-actions/core'
import { identifyBodySchema } from '../moengage-api'
import { moengageAction } from '../moengage-action'
import { commonBody, commonFields } from '../moengage-fields'

const fields = defineFields({ ...commonFields, traits: eventFields.traits })
export type IdentifyUserPayload = InferPayload<typeof fields>

export const identifyUser = moengageAction<IdentifyUserPayload>({
  title: 'Identify User',
  description:
    'Create or update a MoEngage user and their attributes (an identify without traits still links its user and anonymous ids). Engage audiences sent by identify arrive as true/false attributes, computed traits as attributes.',
  defaultSubscription: 'type = "identify"',
  fields,
  toBody: (payload) =>
    parsePayload(
      identifyBodySchema,
      { type: 'identify', ...commonBody(payload), traits: payload.traits ?? {} },
      'MoEngage identify'
    )
})
