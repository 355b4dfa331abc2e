export { destination } from './destination'
export { moengageRegions, MOENGAGE_LIMITS } from './moengage-api'
export type { MoEngageSettings as Settings } from './moengage-api'
/** This package's version, written into the build from its package.json (nothing is read at import). */
export const VERSION: string = '0.0.0-development'
