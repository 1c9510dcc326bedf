/** `${VAR}`, `${VAR:-default}` and `${VAR:-}`; `$VAR` and `${VAR:default}` are left alone, as in DGate. */
const VAR_RE = /\$\{([A-Za-z0-9_]+)(?::-([^}]*))?\}/g

/**
 * Replaces environment references in every string value (not in keys). A set, non-empty variable wins; else the
 * default; else the empty string. Nothing is ever executed: `$(cmd)` stays literal text.
 */
export function substitute(value: unknown, env: Readonly<Record<string, string | undefined>>): unknown {
  if (typeof value === 'string') {
    return value.replace(VAR_RE, (_match, name: string, fallback: string | undefined) => {
      const set = env[name]
      return set !== undefined && set !== '' ? set : (fallback ?? '')
    })
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, env))
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = substitute(v, env)
    return out
  }
  return value
}
