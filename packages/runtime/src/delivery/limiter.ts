/**
 * At most `limit` tasks at once; the rest wait in arrival order. The pipeline runs each destination instance's
 * sends through one, so overload queues here, before actions-core starts a request's timeout clock, instead of
 * starting hundreds of requests at once (the soak measured ~800), some of which ran past that 10 s timeout under load.
 */
export class Limiter {
  private running = 0
  private readonly waiting: (() => void)[] = []
  private head = 0

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`)
  }

  /** Tasks running now. */
  get active(): number {
    return this.running
  }

  /** Tasks waiting for a slot. */
  get queued(): number {
    return this.waiting.length - this.head
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve))
    else this.running += 1
    try {
      return await task()
    } finally {
      this.release()
    }
  }

  /** Hands the slot straight to the next waiter (the count stays), or frees it. */
  private release(): void {
    const next = this.waiting[this.head]
    if (next === undefined) {
      this.running -= 1
      this.waiting.length = 0
      this.head = 0
      return
    }
    this.head += 1
    // Drop consumed entries now and then so a long queue does not keep them referenced.
    if (this.head >= 1024 && this.head * 2 >= this.waiting.length) {
      this.waiting.splice(0, this.head)
      this.head = 0
    }
    next()
  }
}
