import type { Model, Operation } from './checker.js'

/** A key-value operation: read, blind write, or compare-and-set. */
export type KvInput =
  | { kind: 'get'; key: string }
  | { kind: 'put'; key: string; value: string }
  | { kind: 'cas'; key: string; expected: string | undefined; value: string }

/** What the client observed: the value read, or whether a compare-and-set took effect. */
export type KvOutput = { value: string | undefined } | { ok: boolean }

/** A register per key; absent keys read as undefined. */
export const kvModel: Model<string | undefined, KvInput, KvOutput> = {
  init: () => undefined,
  partition: (input) => input.key,
  key: (state) => (state === undefined ? '\u0000' : 'v' + state),
  step(state, input, output) {
    switch (input.kind) {
      case 'get':
        return { ok: output === undefined || ('value' in output && output.value === state), state }
      case 'put':
        return { ok: true, state: input.value }
      case 'cas': {
        const applies = state === input.expected
        if (output !== undefined && (!('ok' in output) || output.ok !== applies)) return { ok: false, state }
        return { ok: true, state: applies ? input.value : state }
      }
    }
  },
}

/** A short, human-readable rendering of an operation, for failure messages. */
export function describeKvOp(op: Operation<KvInput, KvOutput>): string {
  const i = op.input
  const what = i.kind === 'get' ? `get(${i.key})` : i.kind === 'put' ? `put(${i.key}=${i.value})` : `cas(${i.key}:${String(i.expected)}->${i.value})`
  const out = op.output === undefined ? '?' : 'value' in op.output ? String(op.output.value) : String(op.output.ok)
  return `c${op.client} ${what} -> ${out} [${op.call}, ${op.ret}]`
}
