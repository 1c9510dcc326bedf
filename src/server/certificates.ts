import { createSecureContext, type SecureContext } from 'node:tls'
import type { Domain } from '../resources/domain.js'
import { compileHostPattern, type HostMatcher } from '../routing/host-pattern.js'
import type { Snapshot } from '../state/snapshot.js'

interface CertifiedDomain {
  domain: Domain
  matchers: HostMatcher[]
}

/**
 * Chooses the TLS certificate for an SNI name from the domains that carry one, in domain order (priority high
 * first, then name), falling back to a listener's own certificate. A domain whose cert changes is a new object,
 * so its new certificate is served from the next handshake on (DGate cached by a timestamp it never set).
 */
export class CertificateStore {
  readonly #snapshot: () => Snapshot
  readonly #contexts = new WeakMap<Domain, SecureContext>()
  #domains: CertifiedDomain[] = []
  #builtFrom: Snapshot | undefined

  constructor(snapshot: () => Snapshot) {
    this.#snapshot = snapshot
  }

  /** The context for `servername`, or undefined when no domain with a certificate matches. */
  contextFor(servername: string): SecureContext | undefined {
    const host = servername.toLowerCase()
    for (const { domain, matchers } of this.#certified()) {
      if (!matchers.some((m) => m(host))) continue
      let context = this.#contexts.get(domain)
      if (!context) this.#contexts.set(domain, (context = createSecureContext({ cert: domain.cert, key: domain.key })))
      return context
    }
    return undefined
  }

  #certified(): CertifiedDomain[] {
    const snapshot = this.#snapshot()
    if (snapshot !== this.#builtFrom) {
      this.#builtFrom = snapshot
      this.#domains = snapshot
        .list('domain')
        .filter((d) => d.cert && d.key)
        .sort((a, b) => b.priority - a.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        .map((domain) => ({ domain, matchers: domain.patterns.map(compileHostPattern) }))
    }
    return this.#domains
  }
}
