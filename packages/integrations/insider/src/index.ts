export { destination } from './destination'
export { audiences } from './audiences/destination'
export type { InsiderSettings as Settings } from './insider-api'
export { INSIDER_LIMITS } from './insider-api'
/** This package's version, written into the build from its package.json (nothing is read at import). */
export const VERSION: string = '0.0.0-development'
