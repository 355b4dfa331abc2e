import { traySimulator } from './generic'
import { insiderSimulator } from './insider'
import { moengageSimulator } from './moengage'
import { createOneSignalSimulator } from './onesignal'
import { recordingSimulator } from './recording'
import { segmentSimulator } from './segment'
import type { VendorSimulator } from './simulator'

export type { SimulatedRequest, SimulatedResponse, VendorSimulator } from './simulator'

/**
 * One simulator per vendor; stateful ones (OneSignal segments) are fresh per runtime. The recording simulator comes
 * last: it answers every host the vendors' do not claim.
 */
export function createSimulators(): VendorSimulator[] {
  return [
    insiderSimulator,
    moengageSimulator,
    createOneSignalSimulator(),
    segmentSimulator,
    traySimulator,
    recordingSimulator
  ]
}
