// JSON modification of a request and of a response (DGate's README example): an old client speaks v1 of a users API
// ({ user_name, e_mail }), the upstream speaks v2 ({ name, email }). The module translates the request body on the
// way in and the response body on the way out, and drops a field that must never leave the service.
// TypeScript: the gateway compiles it (sucrase) and drops type-only imports. In your project, import from 'dgate'.
import type { ModuleContext } from '../../src/index.js'

type Json = Record<string, unknown>

const V1_TO_V2: Record<string, string> = { user_name: 'name', e_mail: 'email' }
const V2_TO_V1: Record<string, string> = { name: 'user_name', email: 'e_mail' }
/** Fields the upstream has that no client may see. */
const PRIVATE = new Set(['passwordHash'])

/** The object's keys renamed by `names`, in the same order; keys in `drop` left out. */
function rename(object: Json, names: Record<string, string>, drop: Set<string> = new Set()): Json {
  return Object.fromEntries(Object.entries(object).filter(([k]) => !drop.has(k)).map(([k, v]) => [names[k] ?? k, v]))
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const isJson = (contentType: string) => /^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType)

export async function requestModifier(ctx: ModuleContext): Promise<void> {
  const req = ctx.request()
  if (!isJson(req.headers.get('content-type'))) return
  let body: unknown
  try {
    body = await req.readJson()
  } catch {
    // Answering here ends the request: the upstream never sees a body it can't parse.
    ctx.response().status(400).json({ error: 'the request body is not valid JSON' })
    return
  }
  // writeJson replaces the body and its content-length (the upstream gets the new length).
  if (isObject(body)) req.writeJson(rename(body, V1_TO_V2))
}

export async function responseModifier(ctx: ModuleContext): Promise<void> {
  const upstream = ctx.upstream()!
  if (!isJson(upstream.headers.get('content-type'))) return
  const body = await upstream.readJson()
  // The upstream's status (201, 404, …) is kept; only the body changes, and content-length follows it.
  if (isObject(body)) upstream.writeJson(rename(body, V2_TO_V1, PRIVATE))
}
