/**
 * A Wing–Gong linearizability checker with Lowe's memoization (the algorithm behind Porcupine),
 * partitioned by key: a history is linearizable iff each key's sub-history is (P-compositionality).
 */

/** One completed or pending operation. `ret` is Infinity when the outcome is unknown (timed out). */
export interface Operation<I, O> {
  client: number
  input: I
  /** Undefined when the outcome is unknown. */
  output: O | undefined
  call: number
  ret: number
}

/** A sequential specification. `step` says whether `output` is possible from `state` and what follows. */
export interface Model<S, I, O> {
  init(): S
  partition(input: I): string
  step(state: S, input: I, output: O | undefined): { ok: boolean; state: S }
  key(state: S): string
  describe?(op: Operation<I, O>): string
}

/** The verdict for a history; on failure, the key whose sub-history cannot be linearized. */
export type CheckResult = { ok: true } | { ok: false; partition: string; operations: number }

/** Search states explored per key before giving up (the search is exponential in the worst case). */
export const DEFAULT_MAX_STATES = 2_000_000

/** Checks a whole history; throws when a key's search exceeds `maxStates` rather than guess. */
export function checkLinearizable<S, I, O>(model: Model<S, I, O>, history: Operation<I, O>[], maxStates = DEFAULT_MAX_STATES): CheckResult {
  const parts = new Map<string, Operation<I, O>[]>()
  for (const op of history) {
    const k = model.partition(op.input)
    let list = parts.get(k)
    if (!list) parts.set(k, (list = []))
    list.push(op)
  }
  for (const [k, ops] of parts) {
    if (!checkPartition(model, ops, maxStates, k)) return { ok: false, partition: k, operations: ops.length }
  }
  return { ok: true }
}

function checkPartition<S, I, O>(model: Model<S, I, O>, history: Operation<I, O>[], maxStates: number, key: string): boolean {
  for (const op of history) if (op.ret < op.call) throw new Error('linearizability: an operation returns before its call')
  const partition = key
  const ops = [...history].sort((a, b) => a.call - b.call)
  const n = ops.length
  const done = new Uint8Array(n)
  const seen = new Set<string>()
  let remaining = n

  // Lowe's cache: (set of linearized operations, model state) already shown to be a dead end.
  const doneKey = (state: S): string => {
    let bits = ''
    for (let i = 0; i < n; i += 16) {
      let w = 0
      for (let j = i; j < i + 16 && j < n; j++) if (done[j]) w |= 1 << (j - i)
      bits += String.fromCharCode(w + 32)
    }
    return bits + '|' + model.key(state)
  }

  const search = (state: S): boolean => {
    if (remaining === 0) return true
    const key = doneKey(state)
    if (seen.has(key)) return false
    seen.add(key)
    if (seen.size > maxStates) throw new Error(`linearizability: gave up on key ${partition} after ${maxStates} states (${n} operations)`)
    // An operation can go next only if it was called before every other pending one returned.
    let minRet = Infinity
    for (let i = 0; i < n; i++) if (!done[i]) minRet = Math.min(minRet, ops[i]?.ret ?? Infinity)
    for (let i = 0; i < n; i++) {
      const op = ops[i]
      if (!op) continue
      if (op.call > minRet) break
      if (done[i]) continue
      const r = model.step(state, op.input, op.output)
      if (!r.ok) continue
      done[i] = 1
      remaining--
      if (search(r.state)) return true
      done[i] = 0
      remaining++
    }
    return false
  }
  return search(model.init())
}
