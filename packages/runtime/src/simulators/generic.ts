import { json, type VendorSimulator } from './simulator'

/** Tray workflow URLs accept any JSON POST. */
export const traySimulator: VendorSimulator = {
  vendor: 'Tray.io',
  sandboxSettings: {
    tray: {
      workflows: ['https://0d4f2a1e-sandbox-one.trayapp.io', 'https://1b5e3c2f-sandbox-two.trayapp.io'],
      shared_secret: 'sandbox-tray-shared-secret'
    }
  },
  handles: (url) => url.hostname.endsWith('.trayapp.io'),
  answer: (request) =>
    request.method === 'POST' && request.body !== undefined
      ? json(200, { status: 'accepted' })
      : json(400, { error: 'expected a JSON POST' })
}
