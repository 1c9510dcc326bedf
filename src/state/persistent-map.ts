/**
 * An immutable string-keyed map with O(log32 n) updates that share structure with the map they came from
 * (a hash array mapped trie). Snapshots use it so that a change copies a few small nodes, not whole tables.
 */

interface Leaf<V> {
  readonly t: 0
  readonly h: number
  readonly k: string
  readonly v: V
}
interface Collision<V> {
  readonly t: 1
  readonly h: number
  readonly leaves: readonly Leaf<V>[]
}
interface Branch<V> {
  readonly t: 2
  readonly bitmap: number
  readonly items: readonly Item<V>[]
}
type Item<V> = Leaf<V> | Collision<V> | Branch<V>

const BITS = 5
const MASK = 31
const EMPTY_BRANCH: Branch<never> = { t: 2, bitmap: 0, items: [] }

/** FNV-1a: cheap and well spread for short keys such as resource names. */
export function hash(key: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333)
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 63
}

function withItem<T>(items: readonly T[], i: number, item: T): T[] {
  const copy = items.slice()
  copy[i] = item
  return copy
}

function inserted<T>(items: readonly T[], i: number, item: T): T[] {
  return [...items.slice(0, i), item, ...items.slice(i)]
}

function removed<T>(items: readonly T[], i: number): T[] {
  return [...items.slice(0, i), ...items.slice(i + 1)]
}

/** A branch holding two entries whose hashes differ at or after `shift`. */
function pair<V>(a: Leaf<V> | Collision<V>, b: Leaf<V>, shift: number): Branch<V> {
  const ia = (a.h >>> shift) & MASK
  const ib = (b.h >>> shift) & MASK
  if (ia === ib) return { t: 2, bitmap: 1 << ia, items: [pair(a, b, shift + BITS)] }
  return { t: 2, bitmap: (1 << ia) | (1 << ib), items: ia < ib ? [a, b] : [b, a] }
}

/** Returns the new branch, and whether a key was added (as opposed to replaced). */
function set<V>(node: Branch<V>, shift: number, leaf: Leaf<V>, added: { value: boolean }): Branch<V> {
  const bit = 1 << ((leaf.h >>> shift) & MASK)
  const i = popcount(node.bitmap & (bit - 1))
  if ((node.bitmap & bit) === 0) {
    added.value = true
    return { t: 2, bitmap: node.bitmap | bit, items: inserted(node.items, i, leaf) }
  }
  const child = node.items[i]!
  let next: Item<V>
  if (child.t === 0) {
    if (child.k === leaf.k) next = leaf
    else {
      added.value = true
      next = child.h === leaf.h ? { t: 1, h: leaf.h, leaves: [child, leaf] } : pair(child, leaf, shift + BITS)
    }
  } else if (child.t === 1) {
    if (child.h === leaf.h) {
      const at = child.leaves.findIndex((l) => l.k === leaf.k)
      if (at < 0) added.value = true
      next = { t: 1, h: child.h, leaves: at < 0 ? [...child.leaves, leaf] : withItem(child.leaves, at, leaf) }
    } else {
      added.value = true
      next = pair(child, leaf, shift + BITS)
    }
  } else {
    next = set(child, shift + BITS, leaf, added)
  }
  return { t: 2, bitmap: node.bitmap, items: withItem(node.items, i, next) }
}

/** Returns the new branch (undefined when it became empty), or the same branch when the key was absent. */
function remove<V>(node: Branch<V>, shift: number, h: number, key: string): Branch<V> | undefined {
  const bit = 1 << ((h >>> shift) & MASK)
  if ((node.bitmap & bit) === 0) return node
  const i = popcount(node.bitmap & (bit - 1))
  const child = node.items[i]!
  let next: Item<V> | undefined
  if (child.t === 0) {
    if (child.k !== key) return node
    next = undefined
  } else if (child.t === 1) {
    const leaves = child.leaves.filter((l) => l.k !== key)
    if (leaves.length === child.leaves.length) return node
    next = leaves.length === 1 ? leaves[0] : { t: 1, h: child.h, leaves }
  } else {
    const branch = remove(child, shift + BITS, h, key)
    if (branch === child) return node
    next = branch
  }
  if (next !== undefined) return { t: 2, bitmap: node.bitmap, items: withItem(node.items, i, next) }
  const bitmap = node.bitmap & ~bit
  return bitmap === 0 ? undefined : { t: 2, bitmap, items: removed(node.items, i) }
}

function* walk<V>(item: Item<V>): Generator<Leaf<V>> {
  if (item.t === 0) yield item
  else if (item.t === 1) yield* item.leaves
  else for (const child of item.items) yield* walk(child)
}

/** An immutable map; `set` and `delete` return a new map and leave this one unchanged. */
export class PersistentMap<V> implements ReadonlyMap<string, V> {
  readonly #root: Branch<V>
  readonly size: number

  private constructor(root: Branch<V>, size: number) {
    this.#root = root
    this.size = size
  }

  static empty<V>(): PersistentMap<V> {
    return new PersistentMap<V>(EMPTY_BRANCH, 0)
  }

  static from<V>(entries: Iterable<readonly [string, V]>): PersistentMap<V> {
    let map = PersistentMap.empty<V>()
    for (const [k, v] of entries) map = map.set(k, v)
    return map
  }

  get(key: string): V | undefined {
    const h = hash(key)
    let node: Item<V> = this.#root
    for (let shift = 0; ; shift += BITS) {
      if (node.t === 0) return node.k === key ? node.v : undefined
      if (node.t === 1) return node.leaves.find((l) => l.k === key)?.v
      const bit = 1 << ((h >>> shift) & MASK)
      if ((node.bitmap & bit) === 0) return undefined
      node = node.items[popcount(node.bitmap & (bit - 1))]!
    }
  }

  has(key: string): boolean {
    return this.get(key) !== undefined
  }

  set(key: string, value: V): PersistentMap<V> {
    const added = { value: false }
    const root = set(this.#root, 0, { t: 0, h: hash(key), k: key, v: value }, added)
    return new PersistentMap(root, this.size + (added.value ? 1 : 0))
  }

  delete(key: string): PersistentMap<V> {
    const root = remove(this.#root, 0, hash(key), key)
    if (root === this.#root) return this
    return new PersistentMap(root ?? EMPTY_BRANCH, this.size - 1)
  }

  *entries(): MapIterator<[string, V]> {
    for (const leaf of walk(this.#root)) yield [leaf.k, leaf.v]
  }

  *keys(): MapIterator<string> {
    for (const leaf of walk(this.#root)) yield leaf.k
  }

  *values(): MapIterator<V> {
    for (const leaf of walk(this.#root)) yield leaf.v
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries()
  }

  forEach(fn: (value: V, key: string, map: ReadonlyMap<string, V>) => void): void {
    for (const leaf of walk(this.#root)) fn(leaf.v, leaf.k, this)
  }
}
