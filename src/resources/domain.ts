import { X509Certificate, createPrivateKey } from 'node:crypto'
import Type from 'typebox'
import type { FieldIssue } from '../errors.js'
import { PatternError } from '../routing/errors.js'
import { compileHostPattern } from '../routing/host-pattern.js'
import { defineKind, namespaceOf } from './define.js'
import { Name, Tags } from './fields.js'

/**
 * A domain: host patterns that send requests to a namespace, and optionally the TLS certificate served for them.
 * @public
 */
export interface Domain {
  /** Unique name in the namespace. */
  name: string
  /** The namespace that requests for matching hosts are routed to. */
  namespace: string
  /** Host patterns, matched case-insensitively without the port: `*` any, `*x` suffix, `x*` prefix, `*x*` contains, `/re/` a whole-host regular expression, otherwise exact. */
  patterns: string[]
  /** Domains are tried highest priority first (ties by name); the first with a matching pattern wins. */
  priority: number
  /** PEM certificate chain. */
  cert?: string
  /** PEM private key. Never returned by reads. */
  key?: string
  /** Free-form labels. */
  tags: string[]
}

/**
 * What reads return for a domain: the private key is never shown.
 * @public
 */
export type DomainInfo = Omit<Domain, 'key'>

/**
 * Input for a domain.
 * @public
 */
export interface DomainSpec {
  /** 1 to 128 characters of letters, digits, `.`, `_` or `-`; unique in the namespace. */
  name: string
  /** Namespace to put it in; defaults to `default`, and is required when the default namespace is disabled. */
  namespace?: string
  /** 1 to 256 host patterns (see `Domain.patterns`), checked on write. */
  patterns: string[]
  /** Integer from -1000000 to 1000000; higher is tried first (default 0). */
  priority?: number
  /** PEM certificate chain; requires `key`. */
  cert?: string
  /** PEM private key matching `cert`. Write-only: reads never return it. */
  key?: string
  /** Free-form labels: up to 64 strings of 1 to 256 characters (default none). */
  tags?: string[]
}

export const domainKind = defineKind<DomainSpec, Domain>({
  kind: 'domain',
  schema: Type.Object(
    {
      name: Name,
      namespace: Type.Optional(Name),
      patterns: Type.Array(Type.String({ maxLength: 1024 }), { minItems: 1, maxItems: 256, errorMessage: 'must list 1 to 256 host patterns' }),
      priority: Type.Optional(Type.Integer({ minimum: -1_000_000, maximum: 1_000_000, errorMessage: 'must be an integer from -1000000 to 1000000' })),
      cert: Type.Optional(Type.String()),
      key: Type.Optional(Type.String()),
      tags: Type.Optional(Tags),
    },
    { additionalProperties: false },
  ),
  normalize(input, issues, ctx) {
    input.patterns.forEach((pattern, i) => {
      try {
        compileHostPattern(pattern)
      } catch (err) {
        if (!(err instanceof PatternError)) throw err
        issues.push({ field: `patterns[${i}]`, reason: err.reason })
      }
    })
    checkCertificate(input, issues)
    const domain: Domain = {
      name: input.name,
      namespace: namespaceOf(input, issues, ctx),
      patterns: input.patterns,
      priority: input.priority ?? 0,
      tags: input.tags ?? [],
    }
    if (input.cert) domain.cert = input.cert
    if (input.key) domain.key = input.key
    return domain
  },
})

/** Both or neither; each must parse; the key must belong to the certificate. */
function checkCertificate(input: DomainSpec, issues: FieldIssue[]): void {
  const { cert, key } = input
  if (!cert && !key) return
  if (!cert) return void issues.push({ field: 'cert', reason: 'is required when key is set' })
  if (!key) return void issues.push({ field: 'key', reason: 'is required when cert is set' })
  let x509: X509Certificate
  try {
    x509 = new X509Certificate(cert)
  } catch {
    return void issues.push({ field: 'cert', reason: 'must be a PEM certificate' })
  }
  try {
    if (!x509.checkPrivateKey(createPrivateKey(key))) issues.push({ field: 'key', reason: 'does not match cert' })
  } catch {
    // The key text is never echoed back: it is secret material.
    issues.push({ field: 'key', reason: 'must be a PEM private key' })
  }
}
