import type { Fault } from '../config'

/** Sandbox faults to inject per vendor host: 5xx bursts, 429 with Retry-After, resets, slow answers, custom bodies. */
export class FaultBook {
  private faults: { fault: Fault; remaining: number }[] = []

  constructor(initial: readonly Fault[] = []) {
    for (const fault of initial) this.add(fault)
  }

  add(fault: Fault): void {
    this.faults.push({ fault, remaining: fault.times ?? Number.POSITIVE_INFINITY })
  }

  clear(): void {
    this.faults = []
  }

  list(): Fault[] {
    return this.faults.map(({ fault, remaining }) => ({
      ...fault,
      ...(Number.isFinite(remaining) ? { times: remaining } : {})
    }))
  }

  /** The next fault for this host, used up by one request. */
  take(host: string): Fault | undefined {
    const entry = this.faults.find(
      (candidate) =>
        candidate.remaining > 0 &&
        (candidate.fault.host === host ||
          (candidate.fault.host.startsWith('*.') && host.endsWith(candidate.fault.host.slice(1))))
    )
    if (!entry) return undefined
    entry.remaining -= 1
    if (entry.remaining <= 0) this.faults = this.faults.filter((candidate) => candidate !== entry)
    return entry.fault
  }
}
