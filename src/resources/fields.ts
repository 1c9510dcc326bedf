import Type from 'typebox'

/** Names of every resource: safe in keys, URLs and file names (no `/` collisions, unlike DGate). */
export const NAME_RE = /^[A-Za-z0-9._-]{1,128}$/

/** A resource name. `errorMessage` is our annotation: the reason shown when the keyword fails. */
export const Name = Type.String({
  pattern: NAME_RE.source,
  errorMessage: 'must be 1 to 128 characters of letters, digits, ".", "_" or "-"',
})

/** Free-form labels, as on every DGate kind except documents. */
export const Tags = Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 64 })

const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** A duration: milliseconds as a number, or a string like `"5s"`, `"250ms"`, `"1.5m"`, `"1h"`. */
export const Duration = Type.Union([Type.Number({ minimum: 0 }), Type.String({ pattern: DURATION_RE.source })], {
  errorMessage: 'must be milliseconds (a number >= 0) or a duration like "5s" or "250ms"',
})

/** Converts a validated duration to whole milliseconds. */
export function toMilliseconds(value: number | string): number {
  if (typeof value === 'number') return Math.round(value)
  const m = DURATION_RE.exec(value)
  if (!m) throw new TypeError(`not a duration: ${value}`)
  return Math.round(Number(m[1]) * UNIT_MS[m[2]!]!)
}

/**
 * Fields that appear in DGate's (and our) output but are set by the server; accepted on input
 * and ignored, so that a resource read back can be written again unchanged.
 */
export const OUTPUT_ONLY_FIELDS = ['createdAt', 'updatedAt', 'created_at', 'updated_at', 'version'] as const
