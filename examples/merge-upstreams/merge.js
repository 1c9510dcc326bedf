// Several upstream calls merged in a requestHandler (DGate's README example, merge_responses_test.ts): GET
// /dashboard/{user} asks every source about the user at once and answers one JSON object with each source's part.
// The route has no service; the module calls the sources itself with dgate/http's fetch.
import { fetch } from 'dgate/http'
// `{ part: baseUrl }`: a sibling module of the namespace (main.js writes it with its upstreams' addresses), so the
// list can change without touching this code.
import { sources } from './sources.js'
/** @import { ModuleContext } from 'dgate' */

/**
 * @param {ModuleContext} ctx
 * @returns {Promise<void>}
 */
export async function requestHandler(ctx) {
  const user = ctx.pathParam('user')
  const parts = Object.keys(sources)
  // All at once, each with its own timeout: a slow or failing source costs its own part, not the others.
  const settled = await Promise.allSettled(
    parts.map(async (part) => {
      const res = await fetch(`${sources[part]}/${encodeURIComponent(user)}`, { timeout: 2000 })
      if (!res.ok) throw new Error(`${part} answered ${res.status}`)
      return res.json()
    }),
  )
  /** @type {Record<string, unknown>} */
  const merged = { user }
  /** @type {Record<string, string>} */
  const errors = {}
  settled.forEach((result, i) => {
    const part = /** @type {string} */ (parts[i])
    if (result.status === 'fulfilled') merged[part] = result.value
    else errors[part] = result.reason instanceof Error ? result.reason.message : String(result.reason)
  })
  const failed = Object.keys(errors).length
  if (failed > 0) merged.errors = errors
  // Partial answers are still answers (200, with `errors`); nothing at all is the upstreams' fault (502).
  ctx.response().status(failed === parts.length ? 502 : 200).json(merged)
}
