import type { SegmentPart } from './route-tree.js'

/**
 * Matches the parts of a dynamic segment against `path[pos, end)` (one raw path segment),
 * writing the `[start, end)` bounds of each parameter value into `bounds` from index `top`.
 *
 * @remarks
 * Parameter values are non-empty, and a regex parameter must match its whole value. A
 * parameter followed by the literal text that ends the segment takes everything before that
 * suffix (`{name}.json` on `a.json.json` gives `a.json`); one followed by literal text in the
 * middle of the segment stops at the first occurrence of that text (`{name}.{ext}` on
 * `a.tar.gz` gives `a` and `tar.gz`, as chi does). No other split is tried, so matching a
 * segment is linear in its length whatever the pattern. Entries of `bounds` from `top` on are
 * scratch space.
 *
 * @returns the new top of `bounds` when the whole segment matched, else -1
 */
export function matchSegment(
  parts: readonly SegmentPart[],
  path: string,
  pos: number,
  end: number,
  bounds: number[],
  top: number,
): number {
  let i = 0
  let at = pos
  let t = top
  while (i < parts.length) {
    const part = parts[i] as SegmentPart
    if (!part.param) {
      const text = part.text
      if (end - at < text.length || !path.startsWith(text, at)) return -1
      at += text.length
      i++
      continue
    }
    if (at === end) return -1
    const next = parts[i + 1]
    let valueEnd: number
    if (next === undefined) valueEnd = end
    else if (i + 2 === parts.length) {
      // The literal ends the segment: it is a suffix.
      valueEnd = end - next.text.length
      if (valueEnd <= at || !path.startsWith(next.text, valueEnd)) return -1
    } else {
      // Parameters are always followed by literal text (the parser refuses adjacent ones).
      valueEnd = path.indexOf(next.text, at + 1)
      if (valueEnd < 0 || valueEnd + next.text.length > end) return -1
    }
    if (part.regex !== undefined && !part.regex.test(path.slice(at, valueEnd))) return -1
    bounds[t] = at
    bounds[t + 1] = valueEnd
    t += 2
    at = valueEnd
    i++
  }
  return at === end ? t : -1
}
