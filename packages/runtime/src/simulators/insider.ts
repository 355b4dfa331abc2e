import { isRecord, json, byteLength, type VendorSimulator } from './simulator'

const E164 = /^\+[1-9]\d{6,14}$/
const EMAIL = /^.+@.+\..+$/
// Insider's API reference documents required params for these two events only.
const REQUIRED = new Map<string, readonly string[]>([
  ['purchase', ['event_group_id', 'unit_sale_price', 'currency', 'quantity']],
  ['cart_page_view', ['event_group_id', 'unit_sale_price', 'currency']]
])

/** Insider's Unification API (academy.insiderone.com): 403 for bad partner/token, 400 for malformed bodies, "200 with failures". */
export const insiderSimulator: VendorSimulator = {
  vendor: 'Insider',
  sandboxSettings: { insider: { account_name: 'sandboxstore', ucd_key: 'sandbox-insider-ucd-key' } },
  handles: (url) => url.hostname === 'unification.useinsider.com',
  answer(request) {
    const partner = request.headers.get('x-partner-name')
    if (!partner || partner !== partner.toLowerCase() || !request.headers.get('x-request-token'))
      return json(403, { error: 'partner name or request token is not valid' })
    if (byteLength(request.rawBody) > 5 * 1024 * 1024) return json(413, { error: 'request entity too large' })
    const path = request.url.pathname
    if (path === '/api/user/v1/profile') return json(200, { data: {} })
    if (!isRecord(request.body) || !Array.isArray(request.body.users) || request.body.users.length === 0)
      return json(400, { error: 'users must be defined: bad request' })
    if (request.body.users.length > 1000) return json(400, { error: 'at most 1000 users per request: bad request' })
    if (path === '/api/user/v1/attribute/delete') return json(200, {})
    if (path !== '/api/user/v1/upsert') return json(404, { error: 'not found' })
    const errors: Record<string, string[]> = {}
    request.body.users.forEach((user: unknown, index: number) => {
      if (!isRecord(user) || !isRecord(user.identifiers))
        return void (errors[`users.${index}.identifiers`] = ['identifiers is required'])
      const { email, phone_number: phone } = user.identifiers
      if (email !== undefined && (typeof email !== 'string' || !EMAIL.test(email)))
        errors[`users.${index}.identifiers.email`] = ['email is not valid']
      if (phone !== undefined && (typeof phone !== 'string' || !E164.test(phone)))
        errors[`users.${index}.identifiers.phone_number`] = ['phone_number must be E.164']
      if (!isRecord(user.attributes) && !Array.isArray(user.events))
        errors[`users.${index}`] = ['attributes or events is required']
      if (Array.isArray(user.events)) {
        user.events.forEach((event: unknown, position: number) => {
          if (!isRecord(event) || typeof event.event_name !== 'string')
            return void (errors[`users.${index}.events.${position}.event_name`] = ['event_name is required'])
          const params = isRecord(event.event_params) ? event.event_params : {}
          const missing = (REQUIRED.get(event.event_name) ?? []).filter((param) => params[param] === undefined)
          if (missing.length > 0)
            errors[`users.${index}.events.${position}.event_params.*.required`] = missing.map(
              (param) => `${param} is required`
            )
        })
      }
    })
    const count = new Set(Object.keys(errors).map((key) => key.split('.')[1])).size
    return json(200, { data: { successful: { count: request.body.users.length - count }, fail: { count, errors } } })
  }
}
