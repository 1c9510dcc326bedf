import type { SegmentPart } from './route-tree.js'

/**
 * Matches the parts of a dynamic segment against `path[pos, end)` (one raw path segment),
 * pushing the `[start, end)` bounds of each parameter value onto `bounds`.
 *
 * @remarks
 * Parameter values are non-empty. A parameter followed by literal text ends at an occurrence
 * of that text, the earliest first, later ones tried if the rest of the segment fails
 * (`{name}.json` matches `a.json.json` with `name` = `a.json`). A regex parameter must match
 * its whole value. On failure `bounds` is left as it was.
 *
 * @returns whether the whole segment matched
 */
export function matchSegment(
  parts: readonly SegmentPart[],
  index: number,
  path: string,
  pos: number,
  end: number,
  bounds: number[],
): boolean {
  if (index === parts.length) return pos === end
  const part = parts[index] as SegmentPart
  if (!part.param) {
    const text = part.text
    return end - pos >= text.length && path.startsWith(text, pos) && matchSegment(parts, index + 1, path, pos + text.length, end, bounds)
  }
  if (pos === end) return false
  const next = parts[index + 1]
  if (next === undefined) {
    if (part.regex !== undefined && !part.regex.test(path.slice(pos, end))) return false
    bounds.push(pos, end)
    return true
  }
  // Parameters are always followed by literal text (the parser refuses adjacent parameters).
  const literal = next.text
  for (let at = path.indexOf(literal, pos + 1); at >= 0 && at + literal.length <= end; at = path.indexOf(literal, at + 1)) {
    if (part.regex !== undefined && !part.regex.test(path.slice(pos, at))) continue
    bounds.push(pos, at)
    if (matchSegment(parts, index + 2, path, at + literal.length, end, bounds)) return true
    bounds.length -= 2
  }
  return false
}
