import { RouteConflictError } from './errors.js'
import { sortMethods } from './methods.js'
import type { ParamPart, ParsedPathPattern, PathSegment, StaticPart } from './path-pattern.js'

/** What a method on a tree node serves. */
export interface Endpoint<V> {
  readonly value: V
  /** The registered pattern, as written. */
  readonly pattern: string
  /** Parameter names of that pattern, matching the captured values in order. */
  readonly paramNames: readonly string[]
  /** Whether the last captured value is the `*` catch-all. */
  readonly catchAll: boolean
}

/**
 * One piece of a dynamic segment, in a single shape so matching stays monomorphic:
 * literal text (`param` false) or a parameter with an optional anchored regex.
 */
export interface SegmentPart {
  readonly param: boolean
  readonly text: string
  readonly regex: RegExp | undefined
}

/** An edge to a child reached through a segment holding parameters. */
export interface DynamicEdge<V> {
  readonly parts: readonly SegmentPart[]
  readonly node: RouteNode<V>
  /** Identity of the segment with parameter names ignored; also the last tie-break. */
  readonly key: string
  /** Precedence of each part: literal 0, regex parameter 1, plain parameter 2. */
  readonly ranks: readonly number[]
}

/** Above this many static children a node looks segments up in a Map instead of scanning. */
const STATIC_SCAN_LIMIT = 8

/**
 * A node of the segment tree: the position after some sequence of segments.
 *
 * @remarks
 * Built mutably by {@link RouteNode.insert}, then {@link RouteNode.finalize} freezes the
 * lookup structures used by the matcher (children in precedence order, method table with the
 * HEAD fallback, precomputed `Allow`).
 */
export class RouteNode<V> {
  private readonly staticChildren = new Map<string, RouteNode<V>>()
  private readonly dynamicChildren = new Map<string, DynamicEdge<V>>()
  private readonly endpoints = new Map<string, Endpoint<V>>()

  /** Literal segment texts, scanned when there are few. */
  staticKeys: readonly string[] = []
  /** Children for {@link RouteNode.staticKeys}, same order. */
  staticNodes: readonly RouteNode<V>[] = []
  /** Literal segment lookup when there are many, else `undefined`. */
  staticMap: ReadonlyMap<string, RouteNode<V>> | undefined
  /** Dynamic children in precedence order. */
  dynamic: readonly DynamicEdge<V>[] = []
  /** The `*` child, if any. */
  catchAll: RouteNode<V> | undefined
  /** Method to endpoint (HEAD falls back to GET), or `undefined` when no pattern ends here. */
  handlers: ReadonlyMap<string, Endpoint<V>> | undefined
  /** The `Allow` list of this node. */
  allow: readonly string[] = []

  /**
   * Adds a parsed pattern for the given methods.
   * @returns the node the pattern ends at
   * @throws {@link RouteConflictError} when one of the methods is already served by an equal pattern
   */
  insert(parsed: ParsedPathPattern, methods: readonly string[], value: V): RouteNode<V> {
    const node = parsed.segments.reduce<RouteNode<V>>((n, segment) => n.child(segment), this)
    const endpoint: Endpoint<V> = {
      value,
      pattern: parsed.pattern,
      paramNames: parsed.paramNames,
      catchAll: parsed.segments[parsed.segments.length - 1]?.kind === 'catch-all',
    }
    for (const method of methods) {
      const existing = node.endpoints.get(method)
      if (existing !== undefined) {
        throw new RouteConflictError(parsed.pattern, method, existing.pattern, existing.value)
      }
    }
    for (const method of methods) node.endpoints.set(method, endpoint)
    return node
  }

  private child(segment: PathSegment): RouteNode<V> {
    if (segment.kind === 'catch-all') return (this.catchAll ??= new RouteNode<V>())
    if (segment.kind === 'static') {
      let next = this.staticChildren.get(segment.text)
      if (next === undefined) this.staticChildren.set(segment.text, (next = new RouteNode<V>()))
      return next
    }
    const key = JSON.stringify(segment.parts.map((p) => (p.kind === 'static' ? p.text : [p.source ?? null])))
    let edge = this.dynamicChildren.get(key)
    if (edge === undefined) {
      edge = {
        parts: segment.parts.map(toSegmentPart),
        node: new RouteNode<V>(),
        key,
        ranks: segment.parts.map((p) => (p.kind === 'static' ? 0 : p.regex === undefined ? 2 : 1)),
      }
      this.dynamicChildren.set(key, edge)
    }
    return edge.node
  }

  /** Freezes this node and its descendants for matching. */
  finalize(): void {
    const statics = [...this.staticChildren]
    if (statics.length > STATIC_SCAN_LIMIT) this.staticMap = new Map(statics)
    else {
      this.staticKeys = statics.map(([k]) => k)
      this.staticNodes = statics.map(([, n]) => n)
    }
    this.dynamic = [...this.dynamicChildren.values()].sort(compareEdges)
    if (this.endpoints.size > 0) {
      const handlers = new Map(this.endpoints)
      const get = handlers.get('GET')
      if (get !== undefined && !handlers.has('HEAD')) handlers.set('HEAD', get)
      this.handlers = handlers
      this.allow = Object.freeze(sortMethods(handlers.keys()))
    }
    for (const n of this.staticChildren.values()) n.finalize()
    for (const e of this.dynamicChildren.values()) e.node.finalize()
    this.catchAll?.finalize()
  }
}

function toSegmentPart(p: StaticPart | ParamPart): SegmentPart {
  return p.kind === 'static'
    ? { param: false, text: p.text, regex: undefined }
    : { param: true, text: '', regex: p.regex }
}

/**
 * Precedence between segments with parameters: compare part by part, literal before regex
 * before plain parameter; a segment that extends another (`{a}.json` over `{a}`) comes first;
 * then by key so the order never depends on registration order.
 */
function compareEdges<V>(a: DynamicEdge<V>, b: DynamicEdge<V>): number {
  const n = Math.min(a.ranks.length, b.ranks.length)
  for (let i = 0; i < n; i++) {
    const d = (a.ranks[i] as number) - (b.ranks[i] as number)
    if (d !== 0) return d
  }
  if (a.ranks.length !== b.ranks.length) return b.ranks.length - a.ranks.length
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0
}
