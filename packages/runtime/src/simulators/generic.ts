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
