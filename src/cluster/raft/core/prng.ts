/**
 * A seeded pseudo-random source returning floats in [0, 1). The core never calls `Math.random`,
 * so a run is reproducible from its seed.
 * @public
 */
export type Random = () => number

/**
 * mulberry32: tiny, fast, good enough for timeouts and fault injection (not for cryptography).
 * @public
 */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** An integer in [lo, hi). */
export function randInt(random: Random, lo: number, hi: number): number {
  return lo + Math.floor(random() * (hi - lo))
}
