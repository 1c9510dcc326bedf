import { PatternError } from './errors.js'
import { compileHostPattern } from './host-pattern.js'
import type { HostMatcher } from './host-pattern.js'

/** The parts of a domain resource that namespace resolution needs. */
export interface DomainInput {
  /** The domain's name; breaks priority ties (ascending). */
  readonly name: string
  /** The namespace requests matching this domain go to. */
  readonly namespace: string
  /** DGate domain patterns, tried in order (see {@link compileHostPattern}). */
  readonly patterns: readonly string[]
  /** Higher is tried first; defaults to 0. */
  readonly priority?: number
}

/** Maps a normalized host (see {@link hostFromHeader}) to a namespace name, or `undefined` for 404. */
export type NamespaceResolver = (host: string) => string | undefined

/** The namespace used when no domain matches and no domain belongs to it. */
export const DEFAULT_NAMESPACE = 'default'

interface CompiledDomain {
  readonly namespace: string
  readonly matchers: readonly HostMatcher[]
}

/**
 * Builds the function that picks a request's namespace from its host (DESIGN.md section 4).
 *
 * @remarks
 * - With no domains and exactly one namespace, every host goes to that namespace.
 * - Otherwise domains are tried by `priority` (high first), then by `name` ascending (then by
 *   namespace, since names are only unique within a namespace); the first domain with a
 *   matching pattern decides.
 * - When nothing matches: `default` if that namespace exists and no domain belongs to it,
 *   else `undefined`.
 *
 * DGate bugs not reproduced: its "exactly one namespace" check is true for any count, its
 * tie-break is name descending, and its regular expressions are unanchored and case-sensitive.
 * An invalid pattern throws here instead of silently disabling its domain: patterns are
 * validated when a domain is written, so one reaching this point is a bug worth surfacing.
 *
 * @param domains - every domain in the gateway
 * @param namespaces - the names of every namespace
 * @returns the resolver
 * @throws {@link PatternError} when a domain has an invalid pattern (the reason names the domain)
 */
export function createNamespaceResolver(
  domains: readonly DomainInput[],
  namespaces: readonly string[],
): NamespaceResolver {
  const only = namespaces[0]
  if (domains.length === 0 && namespaces.length === 1 && only !== undefined) return () => only

  const ordered = [...domains].sort(compareDomains)
  const compiled: CompiledDomain[] = ordered.map((d) => ({
    namespace: d.namespace,
    matchers: d.patterns.map((p) => compileForDomain(d, p)),
  }))
  const fallback =
    namespaces.includes(DEFAULT_NAMESPACE) && !domains.some((d) => d.namespace === DEFAULT_NAMESPACE)
      ? DEFAULT_NAMESPACE
      : undefined

  return (host) => {
    for (const domain of compiled) {
      for (const matches of domain.matchers) if (matches(host)) return domain.namespace
    }
    return fallback
  }
}

function compareDomains(a: DomainInput, b: DomainInput): number {
  const byPriority = (b.priority ?? 0) - (a.priority ?? 0)
  if (byPriority !== 0) return byPriority
  return compareStrings(a.name, b.name) || compareStrings(a.namespace, b.namespace)
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function compileForDomain(domain: DomainInput, pattern: string): HostMatcher {
  try {
    return compileHostPattern(pattern)
  } catch (err) {
    if (err instanceof PatternError) {
      throw new PatternError(pattern, `domain ${domain.namespace}/${domain.name}: ${err.reason}`)
    }
    throw err
  }
}
