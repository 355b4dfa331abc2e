import { defineFields, eventFields, type InferPayload, parsePayload } from '@open-actions/core'
import { customerElementSchema, identifyBodySchema } from '../moengage-api'
import { moengageAction } from '../moengage-action'
import { commonBody, commonFields } from '../moengage-fields'

const fields = defineFields({ ...commonFields, traits: { ...eventFields.traits, required: true } })
export type IdentifyUserPayload = InferPayload<typeof fields>

export const identifyUser = moengageAction<IdentifyUserPayload>({
  title: 'Identify User',
  description:
    'Create or update a MoEngage user and their attributes. Engage audiences sent by identify arrive as true/false attributes, computed traits as attributes.',
  defaultSubscription: 'type = "identify"',
  fields,
  toBody: (payload) =>
    parsePayload(
      identifyBodySchema,
      { type: 'identify', ...commonBody(payload), traits: payload.traits },
      'MoEngage identify'
    ),
  toElement: (body) =>
    parsePayload(
      customerElementSchema,
      {
        type: 'customer',
        customer_id: body.user_id,
        attributes: body.type === 'identify' ? body.traits : {},
        update_existing_only: body.update_existing_only
      },
      'MoEngage customer'
    )
})
