import { randomUUID } from 'node:crypto'
import { isRecord, json, type VendorSimulator } from './simulator'

/** OneSignal's REST API: `Authorization: Key …`, flat string tags (≤ 100 per request), segments kept in memory. */
export function createOneSignalSimulator(): VendorSimulator {
  const segments = new Map<string, { id: string; name: string }[]>()
  return {
    vendor: 'OneSignal',
    sandboxSettings: {
      onesignal: { app_id: '00000000-0000-4000-8000-000000000001', api_key: 'sandbox-onesignal-app-key' }
    },
    handles: (url) => url.hostname === 'api.onesignal.com',
    answer(request) {
      if (!/^Key\s+\S+/.test(request.headers.get('authorization') ?? ''))
        return json(401, { errors: ['Access denied.  Please include an Authorization header.'] })
      const match = /^\/apps\/([^/]+)(\/.*)$/.exec(request.url.pathname)
      if (!match?.[1] || !match[2]) return json(404, { errors: ['Not Found'] })
      const [, appId, rest] = match
      const appSegments = segments.get(appId) ?? []
      segments.set(appId, appSegments)
      if (request.method === 'PATCH' && rest.startsWith('/users/by/external_id/')) {
        const tags =
          isRecord(request.body) && isRecord(request.body.properties) ? request.body.properties.tags : undefined
        if (!isRecord(tags))
          return json(400, { errors: [{ title: 'properties.tags must be an object', code: 'invalid' }] })
        if (Object.keys(tags).length > 100)
          return json(400, {
            errors: [{ title: 'at most 100 properties can be updated per request', code: 'invalid' }]
          })
        const nonString = Object.entries(tags).find(([, value]) => typeof value !== 'string')
        if (nonString)
          return json(400, { errors: [{ title: `tag ${nonString[0]} must be a string`, code: 'invalid' }] })
        return json(202, { properties: { tags } })
      }
      if (rest === '/segments' && request.method === 'GET')
        return json(200, { total_count: appSegments.length, offset: 0, limit: 300, segments: appSegments })
      if (rest === '/segments' && request.method === 'POST') {
        const name = isRecord(request.body) ? request.body.name : undefined
        if (typeof name !== 'string') return json(400, { errors: ['name is required'] })
        if (appSegments.some((segment) => segment.name === name))
          return json(409, { errors: ['A segment with that name already exists'] })
        const segment = { id: randomUUID(), name }
        appSegments.push(segment)
        return json(201, { success: true, id: segment.id })
      }
      if (rest === '/integrations/custom_events' && request.method === 'POST') {
        const events = isRecord(request.body) ? request.body.events : undefined
        if (!Array.isArray(events)) return json(400, { errors: ['events is required'] })
        return json(202, {})
      }
      return json(404, { errors: ['Not Found'] })
    }
  }
}
