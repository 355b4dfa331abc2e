export { destination } from './destination'
export { operations, operationCredentialsSchema, runOperation } from './operations/tray-operations'
export type { OperationCredentials, OperationInput, OperationName, OperationOutput } from './operations/tray-operations'
export { signBody } from './tray-delivery'
export { MAX_WORKFLOWS } from './tray-settings'
export type { TraySettings as Settings } from './tray-settings'
/** This package's version, written into the build from its package.json (nothing is read at import). */
export const VERSION: string = '0.0.0-development'
