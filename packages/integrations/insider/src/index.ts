import { readPackageVersion } from '@open-actions/core'

export { destination } from './destination'
export { audiences } from './audiences/destination'
export type { InsiderSettings as Settings } from './insider-api'
export { INSIDER_LIMITS } from './insider-api'
export const VERSION: string = readPackageVersion(__dirname)
