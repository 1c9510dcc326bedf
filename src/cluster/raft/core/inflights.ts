/**
 * The AppendEntries messages sent to one follower and not yet acknowledged, bounded by count and
 * bytes: the flow-control window of optimistic pipelining.
 */
export class Inflights {
  private readonly items: { index: number; bytes: number }[] = []
  private bytes = 0

  constructor(
    readonly maxCount: number,
    readonly maxBytes: number,
  ) {}

  /** Records a message whose last entry is `index`. */
  add(index: number, bytes: number): void {
    this.items.push({ index, bytes })
    this.bytes += bytes
  }

  /** Frees every message whose last entry is `<= index` (acknowledged). */
  freeLE(index: number): void {
    let n = 0
    while (n < this.items.length && (this.items[n]?.index ?? Infinity) <= index) {
      this.bytes -= this.items[n]?.bytes ?? 0
      n++
    }
    if (n > 0) this.items.splice(0, n)
  }

  /** Frees the oldest message: a heartbeat reply proves the follower is alive, so probe past a lost append. */
  freeFirstOne(): void {
    const first = this.items.shift()
    if (first) this.bytes -= first.bytes
  }

  full(): boolean {
    return this.items.length >= this.maxCount || this.bytes >= this.maxBytes
  }

  count(): number {
    return this.items.length
  }

  reset(): void {
    this.items.length = 0
    this.bytes = 0
  }
}
