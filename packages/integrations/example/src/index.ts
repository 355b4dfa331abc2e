import { readPackageVersion } from '@open-actions/core'

export { destination } from './destination'
export { exampleRegions } from './example-api'
export type { ExampleSettings as Settings } from './example-api'
export const VERSION: string = readPackageVersion(__dirname)
