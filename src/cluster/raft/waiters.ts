/** Promises waiting for "something changed", each with its own timeout. */
export class Waiters {
  private readonly waiting = new Set<() => void>()

  /** Resolves on the next {@link Waiters.wakeAll} or after `ms`, whichever comes first. */
  wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.waiting.delete(done)
        resolve()
      }
      const timer = setTimeout(done, Math.max(0, ms))
      this.waiting.add(done)
    })
  }

  wakeAll(): void {
    for (const w of [...this.waiting]) w()
  }
}
