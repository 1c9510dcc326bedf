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

  /** Restores every link cut by {@link MemoryNetwork.partition} or {@link MemoryNetwork.isolate}. */
  heal(): void {
    this.cut.clear()
  }

  /**
   * Routes one message to its destination, unless the link is cut or the node is gone.
   * @internal
   */
  deliver(msg: Message): void {
    if (this.cut.has(`${msg.from}>${msg.to}`)) return
    const to = this.endpoints.get(msg.to)
    if (!to) return
    const copy = structuredClone(msg)
    setImmediate(() => to.receive(copy))
  }

  /**
   * Forgets a closed transport (unless a restart already replaced it).
   * @internal
   */
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
    /** The node this endpoint belongs to. */
    readonly id: string,
    private readonly network: MemoryNetwork,
  ) {}

  /** Hands each message to the network for delivery on a later turn; dropped once closed. */
  send(msgs: Message[]): void {
    if (this.closed) return
    for (const m of msgs) this.network.deliver(m)
  }

  /** Sets the receiver of incoming messages, replacing any earlier one. */
  onMessage(cb: (msg: Message) => void): void {
    this.cb = cb
  }

  /**
   * Passes a delivered message to the receiver, unless closed.
   * @internal
   */
  receive(msg: Message): void {
    if (!this.closed) this.cb?.(msg)
  }

  /** Stops sending and receiving and detaches from the network. */
  async close(): Promise<void> {
    this.closed = true
    this.network.detach(this)
  }
}
