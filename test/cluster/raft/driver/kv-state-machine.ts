import type { ApplyResult, StateMachine } from '../../../../src/cluster/adapter.js'
import type { Change, LogEntry } from '../../../../src/state/change.js'

/**
 * A small stand-in for the gateway's state: namespaces by name with their tags. Deleting a
 * namespace that does not exist is refused, deterministically, like the real state would.
 */
export class KvStateMachine implements StateMachine {
  appliedIndex = 0
  items = new Map<string, string[]>()
  restores = 0

  apply(entry: LogEntry): ApplyResult {
    this.appliedIndex = entry.index
    const c = entry.change
    if (c.op === 'delete') {
      if (!this.items.has(c.name)) return { ok: false, error: new Error(`namespace ${c.name} does not exist`) }
      this.items.delete(c.name)
      return { ok: true }
    }
    if (c.kind !== 'namespace') return { ok: false, error: new Error(`unsupported kind ${c.kind}`) }
    this.items.set(c.name, c.item.tags)
    return { ok: true }
  }

  check(change: Change): void {
    if (change.op === 'delete' && !this.items.has(change.name)) throw new Error(`namespace ${change.name} does not exist`)
  }

  checkAll(changes: readonly Change[]): (Error | undefined)[] {
    const present = new Set(this.items.keys())
    return changes.map((c) => {
      if (c.op === 'delete') {
        if (!present.has(c.name)) return new Error(`namespace ${c.name} does not exist`)
        present.delete(c.name)
      } else present.add(c.name)
      return undefined
    })
  }

  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify({ appliedIndex: this.appliedIndex, items: [...this.items] }))
  }

  restore(bytes: Uint8Array): void {
    const s = JSON.parse(new TextDecoder().decode(bytes)) as { appliedIndex: number; items: [string, string[]][] }
    this.appliedIndex = s.appliedIndex
    this.items = new Map(s.items)
    this.restores++
  }
}

/** A namespace put. */
export function putNs(name: string, tags: string[] = []): Change {
  return { kind: 'namespace', op: 'put', namespace: name, name, item: { name, tags } }
}

/** A namespace delete. */
export function deleteNs(name: string): Change {
  return { kind: 'namespace', op: 'delete', namespace: name, name }
}
