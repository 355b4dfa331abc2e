import { readPackageVersion } from '@open-actions/core'

export { destination } from './destination'
export { moengageRegions, MOENGAGE_LIMITS } from './moengage-api'
export type { MoEngageSettings as Settings } from './moengage-api'
export const VERSION: string = readPackageVersion(__dirname)
