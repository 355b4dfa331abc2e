import { readPackageVersion } from '@open-actions/core'

export { destination } from './destination'
export { operations, operationCredentialsSchema, runOperation } from './operations/tray-operations'
export type { OperationCredentials, OperationInput, OperationName, OperationOutput } from './operations/tray-operations'
export { signBody } from './tray-delivery'
export { MAX_WORKFLOWS } from './tray-settings'
export type { TraySettings as Settings } from './tray-settings'
export const VERSION: string = readPackageVersion(__dirname)
