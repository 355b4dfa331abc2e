import { json, type VendorSimulator } from './simulator'

/** Tray workflow URLs accept any JSON POST. */
export const traySimulator: VendorSimulator = {
  vendor: 'Tray.io',
  handles: (url) => url.hostname.endsWith('.trayapp.io'),
  answer: (request) =>
    request.method === 'POST' && request.body !== undefined
      ? json(200, { status: 'accepted' })
      : json(400, { error: 'expected a JSON POST' })
}

/** The fictional Example Vendor of the template integration. */
export const exampleSimulator: VendorSimulator = {
  vendor: 'Example Vendor',
  handles: (url) => url.hostname === 'api.example-vendor.com' || url.hostname === 'api.eu.example-vendor.com',
  answer(request) {
    if (!/^Bearer\s+\S+/.test(request.headers.get('authorization') ?? ''))
      return json(401, { error: { message: 'missing bearer key' } })
    if (request.url.pathname.endsWith('/events')) return json(200, { accepted: 1, errors: [] })
    return json(200, {})
  }
}
