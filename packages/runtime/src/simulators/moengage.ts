import { basicCredentials, byteLength, isRecord, json, type VendorSimulator } from './simulator'

const fail = (status: number, message: string, type: string) =>
  json(status, { status: 'fail', error: { message, type, request_id: 'sandbox' } })

/** MoEngage's Data API: Basic auth whose user is the workspace id (= MOE-APPKEY), 100 KB bulk calls, 200 for accepted bulk. */
export const moengageSimulator: VendorSimulator = {
  vendor: 'MoEngage',
  sandboxSettings: { moengage: { api_id: 'SANDBOXWS01', api_key: 'sandbox-moengage-data-key', region: 'DC_01' } },
  handles: (url) => /^api-(0[1-6]|101)\.moengage\.com$/.test(url.hostname),
  answer(request) {
    const credentials = basicCredentials(request.headers)
    if (!credentials || !credentials.password) return fail(401, 'Authentication required', 'Authentication required')
    const appKey = request.headers.get('moe-appkey')
    if (appKey !== null && appKey !== credentials.user)
      return fail(401, 'MOE-APPKEY does not match the workspace id', 'Authentication required')
    const path = request.url.pathname
    if (path === '/v1/integrations/segment/auth') return json(200, { status: 'success' })
    if (path === '/v1/integrations/segment') {
      if (request.url.searchParams.get('appId') !== credentials.user)
        return fail(400, 'appId does not match the workspace id', 'Bad Request')
      if (!isRecord(request.body) || (request.body.type !== 'identify' && request.body.type !== 'track'))
        return fail(400, 'type must be identify or track', 'Bad Request')
      if (!request.body.user_id && !request.body.anonymous_id)
        return fail(400, 'user_id or anonymous_id is required', 'Bad Request')
      return json(200, { status: 'success', message: 'Your request has been accepted and will be processed soon.' })
    }
    if (path === `/v1/transition/${credentials.user}`) {
      if (byteLength(request.rawBody) > 100 * 1024) return fail(413, 'payload exceeds 100 KB', 'Payload Too Large')
      if (!isRecord(request.body) || request.body.type !== 'transition' || !Array.isArray(request.body.elements))
        return fail(400, 'elements is mandatory', 'Bad Request')
      // Platform values outside MoEngage's list are refused (its bulk API reference: "unsupported values … 400").
      const badPlatform = request.body.elements.findIndex(
        (element: unknown) =>
          isRecord(element) &&
          Array.isArray(element.actions) &&
          element.actions.some(
            (action: unknown) =>
              isRecord(action) &&
              action.platform !== undefined &&
              !['ANDROID', 'iOS', 'web', 'TV', 'unknown'].includes(String(action.platform))
          )
      )
      if (badPlatform >= 0) return fail(400, 'platform must be one of ANDROID, iOS, web, TV, unknown', 'AttributeError')
      const missing = request.body.elements.findIndex(
        (element: unknown) => !isRecord(element) || typeof element.customer_id !== 'string'
      )
      if (missing >= 0)
        return json(400, {
          status: 'fail',
          error: {
            message: 'customer_id is mandatory',
            type: 'Bad Request',
            attribute: `elements.${missing}.customer_id`,
            request_id: 'sandbox'
          }
        })
      return json(200, { status: 'success', message: 'Your request has been accepted and will be processed soon.' })
    }
    return fail(404, `no such endpoint: ${path}`, 'Not Found')
  }
}
