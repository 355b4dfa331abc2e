import { basicCredentials, byteLength, isRecord, json, type VendorSimulator } from './simulator'

/** Segment's Tracking API (200 for everything well-formed; 400 for invalid JSON or oversize), CDN and Profile API. */
export const segmentSimulator: VendorSimulator = {
  vendor: 'Segment',
  sandboxSettings: { segment: { write_key: 'sandbox-segment-write-key', region: 'us' } },
  handles: (url) =>
    [
      'api.segment.io',
      'events.eu1.segmentapis.com',
      'cdn.segment.com',
      'profiles.segment.com',
      'profiles.euw1.segment.com'
    ].includes(url.hostname),
  answer(request) {
    const host = request.url.hostname
    if (host === 'cdn.segment.com') return json(200, { integrations: {}, plan: {} })
    if (host.startsWith('profiles.')) {
      if (!basicCredentials(request.headers))
        return json(401, { error: { code: 'authentication_error', message: 'Unauthorized' } })
      return json(404, { error: { code: 'not_found', message: 'Profile was not found.' } })
    }
    const credentials = basicCredentials(request.headers)
    if (!credentials?.user || credentials.password !== '')
      return json(401, { success: false, message: 'Unauthorized: write key as the Basic user name, empty password' })
    if (request.body === undefined) return json(400, { success: false, message: 'Invalid JSON' })
    const limit = request.url.pathname === '/v1/batch' ? 500 * 1024 : 32 * 1024
    if (byteLength(request.rawBody) > limit) return json(400, { success: false, message: 'Request too large' })
    if (request.url.pathname === '/v1/batch' && (!isRecord(request.body) || !Array.isArray(request.body.batch)))
      return json(400, { success: false, message: 'batch is required' })
    return json(200, { success: true })
  }
}
