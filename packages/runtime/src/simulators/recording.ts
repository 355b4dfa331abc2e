import { json, type VendorSimulator } from './simulator'

/**
 * Every host no vendor simulator claims (a destination loaded from a package, such as Segment's Webhook): the request is
 * recorded like any other and answered 200 with a small JSON body, so such instances can be tried in the sandbox. It
 * checks nothing: a vendor's own rules come with a simulator of its own.
 */
export const recordingSimulator: VendorSimulator = {
  vendor: 'any other host (recorded, answered 200)',
  handles: () => true,
  answer: (request) => json(200, { sandbox: 'recorded', method: request.method, path: request.url.pathname })
}
