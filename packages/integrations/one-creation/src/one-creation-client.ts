import type { RequestClient } from '@segment/actions-core'
import { parsePayload } from '@open-actions/core'
import { createSegmentClient, type SourceDelivery } from '@open-actions/segment'
import { connect, type ConnectOutcome } from './connect'
import { oneCreationSettingsSchema, type OneCreationSettingsInput } from './one-creation-settings'
import { type Flow, preferenceMessages, preferencePayloadSchema, type PreferenceInput } from './preference-messages'

export interface OneCreationClient {
  /** Checks the four settings against Segment; never throws for a wrong setting. */
  connect(): Promise<ConnectOutcome>
  /** Submitted Preferences: the answers become custom traits. */
  submitted(input: PreferenceInput<'submitted'>): Promise<SourceDelivery>
  /** Extended Preferences: the extended traits get their latest values. */
  extended(input: PreferenceInput<'extended'>): Promise<SourceDelivery>
  /** Expired Data: the campaign's traits are set to "Expired". */
  expired(input: PreferenceInput<'expired'>): Promise<SourceDelivery>
}

/**
 * One Creation's side of the integration: settings validated once (a `PayloadValidationError` naming the field),
 * then each flow sends its identify and track, in that order, in one `/v1/batch` request.
 */
export function createOneCreation(
  rawSettings: OneCreationSettingsInput,
  options: { readonly request?: RequestClient; readonly now?: () => Date } = {}
): OneCreationClient {
  const settings = parsePayload(oneCreationSettingsSchema, rawSettings, 'One Creation settings')
  const segment = createSegmentClient({
    writeKey: settings.write_key,
    region: settings.region,
    ...(options.request ? { request: options.request } : {}),
    ...(options.now ? { now: options.now } : {})
  })

  const send = async (type: Flow, input: object): Promise<SourceDelivery> => {
    const payload = parsePayload(preferencePayloadSchema, { ...input, type }, 'One Creation payload')
    const messages = preferenceMessages(payload)
    return { messages, ...(await segment.batch(messages)) }
  }

  return {
    connect: () => connect(rawSettings, options.request ? { request: options.request } : {}),
    submitted: (input) => send('submitted', input),
    extended: (input) => send('extended', input),
    expired: (input) => send('expired', input)
  }
}
