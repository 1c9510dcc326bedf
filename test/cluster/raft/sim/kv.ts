import type { KvInput, KvOutput } from '../linearizability/kv-model.js'

/** A client write as carried in entry data: the op id lets the state machine drop duplicates. */
export interface KvCommand {
  op: string
  input: KvInput
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function encodeCommand(c: KvCommand): Uint8Array {
  return encoder.encode(JSON.stringify(c))
}

export function decodeCommand(data: Uint8Array): KvCommand {
  return JSON.parse(decoder.decode(data)) as KvCommand
}

/**
 * The simulated application: a key-value store with compare-and-set, deduplicating commands by op
 * id so a duplicated proposal cannot apply twice (the client-semantics rule of Raft §6.3).
 */
export class KvMachine {
  applied = 0
  private data = new Map<string, string>()
  private results = new Map<string, KvOutput>()

  apply(index: number, cmd: KvCommand | undefined): KvOutput | undefined {
    this.applied = index
    if (!cmd) return undefined
    const prior = this.results.get(cmd.op)
    if (prior) return prior
    const i = cmd.input
    let out: KvOutput
    if (i.kind === 'put') {
      this.data.set(i.key, i.value)
      out = { ok: true }
    } else if (i.kind === 'cas') {
      const ok = this.data.get(i.key) === i.expected
      if (ok) this.data.set(i.key, i.value)
      out = { ok }
    } else {
      out = { value: this.data.get(i.key) }
    }
    this.results.set(cmd.op, out)
    return out
  }

  get(key: string): string | undefined {
    return this.data.get(key)
  }

  snapshot(): Uint8Array {
    return encoder.encode(JSON.stringify({ applied: this.applied, data: [...this.data], results: [...this.results] }))
  }

  restore(bytes: Uint8Array): void {
    const s = JSON.parse(decoder.decode(bytes)) as { applied: number; data: [string, string][]; results: [string, KvOutput][] }
    this.applied = s.applied
    this.data = new Map(s.data)
    this.results = new Map(s.results)
  }
}
