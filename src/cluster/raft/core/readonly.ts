/** A ReadIndex request waiting for a heartbeat quorum. */
export interface PendingRead {
  context: string
  index: number
  /** The node that asked (this node for local reads). */
  from: string
  acks: Set<string>
}

/**
 * ReadIndex bookkeeping on the leader: each request records the commit index at arrival and
 * becomes safe once a quorum acknowledges a heartbeat carrying its context (or a later one).
 */
export class ReadOnly {
  private readonly queue: PendingRead[] = []
  private readonly byContext = new Map<string, PendingRead>()

  add(index: number, from: string, context: string): void {
    if (this.byContext.has(context)) return
    const r: PendingRead = { context, index, from, acks: new Set() }
    this.queue.push(r)
    this.byContext.set(context, r)
  }

  /** Records an acknowledgement; returns the acknowledging set, or undefined for an unknown context. */
  recvAck(from: string, context: string): Set<string> | undefined {
    const r = this.byContext.get(context)
    if (!r) return undefined
    r.acks.add(from)
    return r.acks
  }

  /** Removes and returns every request up to and including `context`: all are confirmed by its quorum. */
  advance(context: string): PendingRead[] {
    const i = this.queue.findIndex((r) => r.context === context)
    if (i < 0) return []
    const done = this.queue.splice(0, i + 1)
    for (const r of done) this.byContext.delete(r.context)
    return done
  }

  lastPendingContext(): string | undefined {
    return this.queue[this.queue.length - 1]?.context
  }

  reset(): void {
    this.queue.length = 0
    this.byContext.clear()
  }
}
