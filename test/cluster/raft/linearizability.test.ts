import { describe, expect, it } from 'vitest'
import { checkLinearizable, type Operation } from './linearizability/checker.js'
import { kvModel, type KvInput, type KvOutput } from './linearizability/kv-model.js'

type Op = Operation<KvInput, KvOutput>
const put = (client: number, key: string, value: string, call: number, ret: number): Op => ({ client, input: { kind: 'put', key, value }, output: { ok: true }, call, ret })
const get = (client: number, key: string, value: string | undefined, call: number, ret: number): Op => ({ client, input: { kind: 'get', key }, output: { value }, call, ret })
const cas = (client: number, key: string, expected: string | undefined, value: string, ok: boolean | undefined, call: number, ret: number): Op => ({
  client,
  input: { kind: 'cas', key, expected, value },
  output: ok === undefined ? undefined : { ok },
  call,
  ret,
})

describe('linearizability checker (key-value with compare-and-set)', () => {
  it('accepts a sequential history', () => {
    expect(checkLinearizable(kvModel, [put(0, 'x', '1', 0, 1), get(0, 'x', '1', 2, 3), cas(0, 'x', '1', '2', true, 4, 5), get(0, 'x', '2', 6, 7)]).ok).toBe(true)
  })

  it('accepts a read that overlaps a write and sees either value', () => {
    const w = put(0, 'x', '1', 0, 10)
    expect(checkLinearizable(kvModel, [w, get(1, 'x', undefined, 1, 2)]).ok).toBe(true)
    expect(checkLinearizable(kvModel, [w, get(1, 'x', '1', 1, 2)]).ok).toBe(true)
  })

  it('refuses a stale read after a completed write', () => {
    const r = checkLinearizable(kvModel, [put(0, 'x', '1', 0, 1), get(1, 'x', undefined, 2, 3)])
    expect(r).toEqual({ ok: false, partition: 'x', operations: 2 })
  })

  it('refuses reads that see values in an order no single sequence allows', () => {
    // Two overlapping writes; one reader sees 1 then 2, another sees 2 then 1, all after both writes ended.
    const h = [put(0, 'x', '1', 0, 5), put(1, 'x', '2', 0, 5), get(2, 'x', '1', 6, 7), get(2, 'x', '2', 8, 9), get(3, 'x', '1', 10, 11)]
    expect(checkLinearizable(kvModel, h).ok).toBe(false)
  })

  it('refuses a compare-and-set that succeeds against a value that was not current', () => {
    const h = [put(0, 'x', '1', 0, 1), put(0, 'x', '2', 2, 3), cas(1, 'x', '1', '3', true, 4, 5)]
    expect(checkLinearizable(kvModel, h).ok).toBe(false)
  })

  it('refuses a compare-and-set that fails although its expectation held', () => {
    expect(checkLinearizable(kvModel, [put(0, 'x', '1', 0, 1), cas(1, 'x', '1', '3', false, 2, 3)]).ok).toBe(false)
  })

  it('refuses two successful compare-and-sets from the same expected value', () => {
    const h = [put(0, 'x', '0', 0, 1), cas(1, 'x', '0', 'a', true, 2, 6), cas(2, 'x', '0', 'b', true, 3, 7)]
    expect(checkLinearizable(kvModel, h).ok).toBe(false)
  })

  it('lets a write with unknown outcome take effect late, or never', () => {
    const pending = put(0, 'x', '1', 0, Infinity)
    expect(checkLinearizable(kvModel, [pending, get(1, 'x', undefined, 5, 6), get(1, 'x', '1', 7, 8)]).ok).toBe(true)
    expect(checkLinearizable(kvModel, [pending, get(1, 'x', undefined, 5, 6)]).ok).toBe(true)
    // ... but not un-happen once observed.
    expect(checkLinearizable(kvModel, [pending, get(1, 'x', '1', 5, 6), get(1, 'x', undefined, 7, 8)]).ok).toBe(false)
  })

  it('checks keys independently and names the failing key', () => {
    const h = [put(0, 'a', '1', 0, 1), get(0, 'a', '1', 2, 3), put(1, 'b', '1', 0, 1), get(1, 'b', '0', 2, 3)]
    expect(checkLinearizable(kvModel, h)).toEqual({ ok: false, partition: 'b', operations: 2 })
  })

  it('handles a long concurrent history quickly', () => {
    const h: Op[] = []
    for (let i = 0; i < 300; i++) {
      h.push(put(i % 5, 'k', `v${i}`, i * 10, i * 10 + 15))
      h.push(get((i + 1) % 5, 'k', `v${i}`, i * 10 + 16, i * 10 + 18))
    }
    const t = Date.now()
    expect(checkLinearizable(kvModel, h).ok).toBe(true)
    expect(Date.now() - t).toBeLessThan(5000)
  })
})

describe('linearizability checker limits', () => {
  it('gives up loudly instead of searching forever', () => {
    // Many writes with unknown outcome and reads in between: the search space is every subset.
    const h: Op[] = []
    for (let i = 0; i < 24; i++) h.push({ ...put(i, 'k', `v${i}`, i, Infinity), output: undefined })
    h.push(get(99, 'k', 'never-written', 100, 101))
    expect(() => checkLinearizable(kvModel, h, 1000)).toThrow(/gave up on key k after 1000 states \(25 operations\)/)
  })
})
