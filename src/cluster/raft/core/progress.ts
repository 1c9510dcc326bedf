import { Inflights } from './inflights.js'

/**
 * How the leader replicates to one follower: `probe` sends one message at a time until it finds
 * where the logs agree, `replicate` pipelines within the inflight window, `snapshot` waits for an
 * InstallSnapshot transfer to finish.
 * @public
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot'

/** The leader's view of one follower's log. */
export class Progress {
  match = 0
  next: number
  state: ProgressState = 'probe'
  /** In probe state: a message is outstanding, wait for a reply or a heartbeat response. */
  probeSent = false
  /** Heard from within the current check-quorum period. */
  recentActive = false
  /** In snapshot state: the snapshot index being sent, the acknowledged offset, and ticks without progress. */
  pendingSnapshot = 0
  snapOffset = 0
  /** In snapshot state: bytes sent so far (chunks beyond `snapOffset` are in flight). */
  snapSent = 0
  /** In snapshot state: the offset the receiver last reported holding. */
  snapReported = 0
  snapIdleTicks = 0
  readonly inflights: Inflights

  constructor(
    next: number,
    maxInflight: number,
    maxInflightBytes: number,
    public isLearner: boolean,
  ) {
    this.next = next
    this.inflights = new Inflights(maxInflight, maxInflightBytes)
  }

  private resetState(state: ProgressState): void {
    this.state = state
    this.probeSent = false
    this.pendingSnapshot = 0
    this.snapOffset = 0
    this.snapSent = 0
    this.snapReported = 0
    this.snapIdleTicks = 0
    this.inflights.reset()
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      const pending = this.pendingSnapshot
      this.resetState('probe')
      this.next = Math.max(this.match + 1, pending + 1)
    } else {
      this.resetState('probe')
      this.next = this.match + 1
    }
  }

  becomeReplicate(): void {
    this.resetState('replicate')
    this.next = this.match + 1
  }

  becomeSnapshot(index: number): void {
    this.resetState('snapshot')
    this.pendingSnapshot = index
  }

  /** An acknowledgement up to `n`: returns whether match advanced. */
  maybeUpdate(n: number): boolean {
    let updated = false
    if (this.match < n) {
      this.match = n
      updated = true
      this.probeSent = false
    }
    this.next = Math.max(this.next, n + 1)
    return updated
  }

  /**
   * A rejection of the append that followed `rejected`; `matchHint` is the follower's guess of the
   * last index that may match. Returns false when the rejection is stale.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false
      this.next = this.match + 1
      return true
    }
    if (this.next - 1 !== rejected) return false
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1)
    this.probeSent = false
    return true
  }

  /** Records an AppendEntries just sent with `count` entries ending at `last`. */
  sentEntries(count: number, last: number, bytes: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next = last + 1
        this.inflights.add(last, bytes)
      }
    } else if (this.state === 'probe') {
      this.probeSent = true
    }
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent
      case 'replicate':
        return this.inflights.full()
      case 'snapshot':
        return true
    }
  }
}
