export { destination } from './destination'
export { exampleRegions } from './example-api'
export type { ExampleSettings as Settings } from './example-api'
/** This package's version, written into the build from its package.json (nothing is read at import). */
export const VERSION: string = '0.0.0-development'
