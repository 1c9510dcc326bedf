import { describe, expect, it } from 'vitest'
import { hash, PersistentMap } from '../../src/state/persistent-map.js'

/** A seeded PRNG, so a failure replays exactly. */
function prng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

/** Keys whose 32-bit hashes are equal, found by a birthday search over a fixed key sequence. */
function collidingPairs(wanted: number): [string, string][] {
  const seen = new Map<number, string>()
  const pairs: [string, string][] = []
  for (let i = 0; pairs.length < wanted; i++) {
    const key = `k${i}`
    const other = seen.get(hash(key))
    if (other !== undefined) pairs.push([other, key])
    else seen.set(hash(key), key)
  }
  return pairs
}

function expectSame(map: PersistentMap<number>, model: Map<string, number>): void {
  expect(map.size).toBe(model.size)
  expect([...map.entries()].sort()).toEqual([...model.entries()].sort())
  for (const [k, v] of model) expect(map.get(k)).toBe(v)
}

describe('PersistentMap', () => {
  it('behaves like a Map under random sets and deletes, collisions included', () => {
    const pairs = collidingPairs(3)
    const keys = [...pairs.flat(), ...Array.from({ length: 300 }, (_, i) => `name-${i}`)]
    for (const seed of [1, 2, 3]) {
      const random = prng(seed)
      let map = PersistentMap.empty<number>()
      const model = new Map<string, number>()
      for (let step = 0; step < 3000; step++) {
        const key = keys[Math.floor(random() * keys.length)]!
        if (random() < 0.6) {
          map = map.set(key, step)
          model.set(key, step)
        } else {
          map = map.delete(key)
          model.delete(key)
        }
        if (step % 500 === 0) expectSame(map, model)
      }
      expectSame(map, model)
    }
  })

  it('never changes a map that was updated: every version stays readable', () => {
    const [a, b] = collidingPairs(1)[0]!
    const v0 = PersistentMap.empty<number>()
    const v1 = v0.set(a, 1)
    const v2 = v1.set(b, 2)
    const v3 = v2.delete(a)
    const v4 = v3.set(b, 3)
    expect([v0.size, v1.size, v2.size, v3.size, v4.size]).toEqual([0, 1, 2, 1, 1])
    expect([v1.get(a), v1.get(b)]).toEqual([1, undefined])
    expect([v2.get(a), v2.get(b)]).toEqual([1, 2])
    expect([v3.get(a), v3.get(b)]).toEqual([undefined, 2])
    expect(v4.get(b)).toBe(3)
  })

  it('returns itself when deleting a missing key, and counts replacements once', () => {
    const map = PersistentMap.from([['a', 1], ['b', 2]])
    expect(map.delete('zzz')).toBe(map)
    expect(map.set('a', 5).size).toBe(2)
    expect(map.has('a')).toBe(true)
    expect(map.has('c')).toBe(false)
    const seen: string[] = []
    map.forEach((v, k) => seen.push(`${k}=${v}`))
    expect(seen.sort()).toEqual(['a=1', 'b=2'])
  })
})
