import { describeDifferential, DIFFERENTIAL_GROUPS } from './fast-path.differential.test-helpers'

describeDifferential(DIFFERENTIAL_GROUPS[1] ?? [])
