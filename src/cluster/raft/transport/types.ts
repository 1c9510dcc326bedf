import type { Message } from '../core/messages.js'

/**
 * Carries Raft messages between nodes. One-way and best effort: messages may be lost, delayed or
 * reordered; the core retries what matters.
 *
 * @public
 */
export interface RaftTransport {
  /** Queues messages for delivery; never blocks. */
  send(msgs: Message[]): void
  /** Registers the receiver of incoming messages (one per transport). */
  onMessage(cb: (msg: Message) => void): void
  /** Stops sending and receiving. */
  close(): Promise<void>
}
