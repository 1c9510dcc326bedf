import type { Message } from '../core/messages.js'
import type { RaftTransport } from './types.js'

/**
 * An in-process network for tests: every message is structurally cloned (as if serialized) and
 * delivered on a later turn of the event loop. Links can be cut and nodes taken down.
 *
 * @public
 */
export class MemoryNetwork {
  private readonly endpoints = new Map<string, MemoryTransport>()
  private readonly cut = new Set<string>()

  /** The transport of node `id` (replacing a closed one after a restart). */
  connect(id: string): MemoryTransport {
    const t = new MemoryTransport(id, this)
    this.endpoints.set(id, t)
    return t
  }

  /** Drops messages between `a` and `b` in both directions. */
  partition(a: string, b: string): void {
    this.cut.add(`${a}>${b}`).add(`${b}>${a}`)
  }

  /** Cuts `id` off from every other node. */
  isolate(id: string): void {
    for (const other of this.endpoints.keys()) if (other !== id) this.partition(id, other)
  }

  heal(): void {
    this.cut.clear()
  }

  /** @internal */
  deliver(msg: Message): void {
    if (this.cut.has(`${msg.from}>${msg.to}`)) return
    const to = this.endpoints.get(msg.to)
    if (!to) return
    const copy = structuredClone(msg)
    setImmediate(() => to.receive(copy))
  }

  /** @internal */
  detach(t: MemoryTransport): void {
    if (this.endpoints.get(t.id) === t) this.endpoints.delete(t.id)
  }
}

/**
 * One node's endpoint on a {@link MemoryNetwork}.
 * @public
 */
export class MemoryTransport implements RaftTransport {
  private cb: ((msg: Message) => void) | undefined
  private closed = false

  constructor(
    readonly id: string,
    private readonly network: MemoryNetwork,
  ) {}

  send(msgs: Message[]): void {
    if (this.closed) return
    for (const m of msgs) this.network.deliver(m)
  }

  onMessage(cb: (msg: Message) => void): void {
    this.cb = cb
  }

  /** @internal */
  receive(msg: Message): void {
    if (!this.closed) this.cb?.(msg)
  }

  async close(): Promise<void> {
    this.closed = true
    this.network.detach(this)
  }
}
