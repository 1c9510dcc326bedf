/**
 * One periodic timer for every deadline of a runtime, instead of a timer per call (a per-call `setTimeout` was a
 * measurable part of the worker round trip, sandbox.md §3). It ticks only while something is tracked, unref'd.
 */
export class Watchdog {
  readonly #deadlines = new Map<number, { at: number; onExpire: () => void }>()
  readonly #tickMs: number
  #timer: ReturnType<typeof setInterval> | undefined

  /** `tickMs` bounds how late an expiry is noticed. */
  constructor(tickMs: number) {
    this.#tickMs = Math.max(1, tickMs)
  }

  /** Calls `onExpire` once, soon after `at` (a `performance.now()` time), unless `untrack` runs first. */
  track(id: number, at: number, onExpire: () => void): void {
    this.#deadlines.set(id, { at, onExpire })
    if (!this.#timer) {
      this.#timer = setInterval(() => this.#tick(), this.#tickMs)
      this.#timer.unref()
    }
  }

  /**
   * Forgets a deadline. The timer keeps ticking until a tick finds nothing tracked: stopping here would create
   * and clear an interval on every call when calls run one at a time.
   */
  untrack(id: number): void {
    this.#deadlines.delete(id)
  }

  /** Stops ticking and forgets everything. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
    this.#deadlines.clear()
  }

  #tick(): void {
    const now = performance.now()
    for (const [id, d] of this.#deadlines) {
      if (d.at <= now) {
        this.#deadlines.delete(id)
        d.onExpire()
      }
    }
    if (this.#deadlines.size === 0) this.stop()
  }
}
