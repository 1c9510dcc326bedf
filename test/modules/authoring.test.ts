import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { readFileSync as readTypes } from 'node:fs'

const CONTEXT_TYPES = fileURLToPath(new URL('../../src/modules/context-types.ts', import.meta.url))

/** Type-checks `files` (virtual) with the authoring declarations; returns the diagnostics as text. */
function check(files: Record<string, string>): string[] {
  const virtual: Record<string, string> = { '/virtual/dgate-modules.d.ts': readTypes(new URL('../../modules/index.d.ts', import.meta.url), 'utf8'), ...files }
  const options: ts.CompilerOptions = { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], skipLibCheck: true, types: [] }
  const host = ts.createCompilerHost(options)
  const read = host.readFile.bind(host)
  host.readFile = (name) => virtual[name] ?? read(name)
  const exists = host.fileExists.bind(host)
  host.fileExists = (name) => name in virtual || exists(name)
  const getSource = host.getSourceFile.bind(host)
  host.getSourceFile = (name, version) => (name in virtual ? ts.createSourceFile(name, virtual[name]!, version) : getSource(name, version))
  const program = ts.createProgram(Object.keys(virtual), options, host)
  return ts.getPreEmitDiagnostics(program).map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`)
}

describe('authoring types', () => {
  it('type-check a module that uses ctx and every dgate/* import', () => {
    const module = `
import type { ModuleContext } from 'dgate'
import { fail, retry, sleep } from 'dgate'
import { fetch } from 'dgate/http'
import { createHmac, randomUUID, sha256 } from 'dgate/crypto'
import { addDocument, getDocument } from 'dgate/state'
import { getCache, setCache } from 'dgate/storage'
import { readWriteBody } from 'dgate/util'

export async function requestModifier(ctx: ModuleContext): Promise<void> {
  const req = ctx.request()
  req.headers.set('x-id', randomUUID()).add('x-sig', createHmac('sha256', 'k').update(req.path).digest('hex'))
  req.query.set('page', 2)
  const body = (await req.readJson()) as { name?: string }
  if (!body.name) fail('name required')
  req.writeJson({ ...body, hash: sha256(body.name ?? '', 'hex') })
  ctx.set('started', 1)
  await sleep('5ms')
  const cached = await getCache<string>('k')
  if (cached === null) await setCache('k', 'v', { ttl: 10 })
  const doc = await getDocument<{ url: string }>('id', 'links')
  if (doc) await addDocument({ id: 'copy', collection: 'links', data: doc.data })
  const res = await retry(3, () => fetch('https://example.com', { method: 'POST', body: 'x', redirect: 'manual' }))
  if (!res.ok) ctx.response().status(res.status).json({ error: res.statusText })
}

export async function responseModifier(ctx: ModuleContext): Promise<void> {
  const up = ctx.upstream()
  if (up) await readWriteBody(up, (text) => text.toUpperCase())
}
`
    expect(check({ '/virtual/module.ts': module })).toEqual([])
  })

  it('report misuse, so the check above can fail', () => {
    const errors = check({ '/virtual/bad.ts': `import type { ModuleContext } from 'dgate'\nimport { sha256 } from 'dgate/crypto'\nexport function requestModifier(ctx: ModuleContext) { ctx.request().readBody().then((b) => b.toUpperCase()); const n: number = sha256('x', 'hex') }` })
    expect(errors.join('\n')).toMatch(/toUpperCase/)
    expect(errors.join('\n')).toMatch(/Type 'string' is not assignable to type 'number'/)
  })

  it("match the runtime's ctx types in both directions", () => {
    const errors = check({
      '/virtual/same.ts': `
import type { ModuleContext as Authoring } from 'dgate'
import type { ModuleContext as Real } from ${JSON.stringify(CONTEXT_TYPES.replace(/\.ts$/, '.js'))}
declare const a: Authoring
declare const r: Real
export const one: Real = a
export const two: Authoring = r
`,
    })
    expect(errors).toEqual([])
  })
})
