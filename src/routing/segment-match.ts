import type { SegmentPart } from './route-tree.js'

/**
 * Matches the parts of a dynamic segment against `path[pos, end)` (one raw path segment),
 * writing the `[start, end)` bounds of each parameter value into `bounds` from index `top`.
 *
 * @remarks
 * Parameter values are non-empty. A parameter followed by literal text ends at an occurrence
 * of that text, the earliest first, later ones tried if the rest of the segment fails
 * (`{name}.json` matches `a.json.json` with `name` = `a.json`). A regex parameter must match
 * its whole value. Entries of `bounds` from `top` on are scratch space.
 *
 * @returns the new top of `bounds` when the whole segment matched, else -1
 */
export function matchSegment(
  parts: readonly SegmentPart[],
  index: number,
  path: string,
  pos: number,
  end: number,
  bounds: number[],
  top: number,
): number {
  if (index === parts.length) return pos === end ? top : -1
  const part = parts[index] as SegmentPart
  if (!part.param) {
    const text = part.text
    return end - pos >= text.length && path.startsWith(text, pos)
      ? matchSegment(parts, index + 1, path, pos + text.length, end, bounds, top)
      : -1
  }
  if (pos === end) return -1
  const next = parts[index + 1]
  if (next === undefined) {
    if (part.regex !== undefined && !part.regex.test(path.slice(pos, end))) return -1
    bounds[top] = pos
    bounds[top + 1] = end
    return top + 2
  }
  // Parameters are always followed by literal text (the parser refuses adjacent parameters).
  const literal = next.text
  for (let at = path.indexOf(literal, pos + 1); at >= 0 && at + literal.length <= end; at = path.indexOf(literal, at + 1)) {
    if (part.regex !== undefined && !part.regex.test(path.slice(pos, at))) continue
    bounds[top] = pos
    bounds[top + 1] = at
    const result = matchSegment(parts, index + 2, path, at + literal.length, end, bounds, top + 2)
    if (result >= 0) return result
  }
  return -1
}
