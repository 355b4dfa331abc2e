/**
 * Building blocks shared with this repository's tools and tests (benchmarks, the soak). No semver promise: the
 * package's root export is what users call.
 */
export { execute } from './executor'
export { buildLanes, matchTargets, sourceLaneId } from './targets'
export type { DestinationTarget, Lane, SourceTarget, Target } from './targets'
export { Workers } from './delivery/workers'
export { settlementFor, backoffDelay } from './delivery/retry-policy'
export type { AttemptOutcome, RetryOptions } from './delivery/retry-policy'
export { compileTarget } from './fast-path/compiled-target'
export type { CompiledTarget, ExecutionPath, RunOptions } from './fast-path/compiled-target'
export { compileMapping, UnsupportedMapping } from './fast-path/compile-mapping'
export type { Claim } from './store/store'
export { configSecrets } from './config'
