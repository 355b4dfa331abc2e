/** Per-second counts over the last few minutes, for the web page's chart. */
export type StatKind = 'events' | 'delivered' | 'errors'

export interface StatBucket {
  readonly second: number
  events: number
  delivered: number
  errors: number
}

export class Stats {
  private readonly buckets: StatBucket[] = []

  constructor(private readonly windowSeconds = 300) {}

  record(kind: StatKind, count = 1, now: number = Date.now()): void {
    const second = Math.floor(now / 1000)
    let bucket = this.buckets[this.buckets.length - 1]
    if (!bucket || bucket.second !== second) {
      bucket = { second, events: 0, delivered: 0, errors: 0 }
      this.buckets.push(bucket)
      while (this.buckets.length > 0 && (this.buckets[0]?.second ?? second) <= second - this.windowSeconds)
        this.buckets.shift()
    }
    bucket[kind] += count
  }

  series(): StatBucket[] {
    return this.buckets.map((bucket) => ({ ...bucket }))
  }
}
