import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

// The types module authors reference as `dgate/modules`: modules/index.d.ts, shipped with the package; the one
// source of the ambient `dgate` and `dgate/*` declarations (test/modules/authoring.test.ts keeps it in step with
// src/modules/context-types.ts).
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SHIPPED = join(ROOT, 'modules/index.d.ts')
const MODULE = `
import type { ModuleContext } from 'dgate'
import { fail, retry } from 'dgate'
import { fetch } from 'dgate/http'
import { createHmac, randomUUID } from 'dgate/crypto'
import { getDocument } from 'dgate/state'
import { getCache, setCache } from 'dgate/storage'
import { readWriteBody } from 'dgate/util'

export async function requestModifier(ctx: ModuleContext): Promise<void> {
  const req = ctx.request()
  req.headers.set('x-id', randomUUID()).set('x-sig', createHmac('sha256', 'k').update(req.path).digest('hex'))
  const body = (await req.readJson()) as { name?: string }
  if (!body.name) fail('name required')
  if ((await getCache<string>(body.name ?? '')) === null) await setCache(body.name ?? '', 'seen', { ttl: 60 })
  const doc = await getDocument<{ url: string }>('id', 'links')
  const res = await retry(2, () => fetch(doc?.data.url ?? 'https://example.com'))
  if (!res.ok) ctx.response().status(502).json({ error: res.statusText })
}

export async function responseModifier(ctx: ModuleContext): Promise<void> {
  const upstream = ctx.upstream()
  if (upstream) await readWriteBody(upstream, (text) => text.toUpperCase())
}
`

/**
 * Type-checks `module` in a fresh project where the package is installed as node_modules/dgate (its package.json and
 * the shipped types only), the way an editor sees a module file. `how` picks the reference style.
 */
function typeCheck(module: string, resolution: ts.ModuleResolutionKind, how: 'reference' | 'tsconfig'): string[] {
  // Outside the repository: inside it, TypeScript would resolve `dgate` to the repository itself (self-reference).
  const dir = mkdtempSync(join(tmpdir(), 'dgate-module-types-'))
  const pkg = join(dir, 'node_modules', 'dgate')
  mkdirSync(join(pkg, 'modules'), { recursive: true })
  cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'))
  cpSync(SHIPPED, join(pkg, 'modules', 'index.d.ts'))
  const file = join(dir, 'module.ts')
  writeFileSync(file, how === 'reference' ? `/// <reference types="dgate/modules" />\n${module}` : module)
  const nodeNext = resolution === ts.ModuleResolutionKind.NodeNext
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: nodeNext ? ts.ModuleKind.NodeNext : ts.ModuleKind.ESNext,
    moduleResolution: resolution,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: how === 'tsconfig' ? ['dgate/modules'] : [],
    // The shipped .d.ts is checked; TypeScript's own lib files are not (they cost seconds and are not ours).
    skipDefaultLibCheck: true,
  }
  // As if from <dir>/tsconfig.json: `types` entries resolve from there.
  const program = ts.createProgram([file], { ...options, configFilePath: join(dir, 'tsconfig.json') }, ts.createCompilerHost(options))
  const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => `${d.file?.fileName.slice(dir.length) ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`)
  rmSync(dir, { recursive: true, force: true })
  return diagnostics
}

describe('dgate/modules: the types shipped for module authors', () => {
  it('are exported as ./modules and packed', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, unknown>; files: string[] }
    expect(pkg.exports['./modules']).toEqual({ types: './modules/index.d.ts' })
    expect(pkg.files).toContain('modules/index.d.ts')
  })

  it.each([
    ['NodeNext', 'reference', ts.ModuleResolutionKind.NodeNext],
    ['Bundler', 'reference', ts.ModuleResolutionKind.Bundler],
    ['Node10', 'reference', ts.ModuleResolutionKind.Node10],
    ['Bundler', 'tsconfig', ts.ModuleResolutionKind.Bundler],
  ] as const)('type-check a module file that uses ctx and dgate/* (%s resolution, by %s)', (_name, how, resolution) => {
    expect(typeCheck(MODULE, resolution, how)).toEqual([])
  })

  it('report misuse through the installed package, so the checks above can fail', () => {
    const errors = typeCheck(
      `import { sha256 } from 'dgate/crypto'\nimport { nope } from 'dgate/http'\nimport type { ModuleContext } from 'dgate'\nexport function fetchUpstream(ctx: ModuleContext): number { return sha256(ctx.request().path, 'hex') }`,
      ts.ModuleResolutionKind.NodeNext,
      'reference',
    ).join('\n')
    expect(errors).toMatch(/Type 'string' is not assignable to type 'number'/)
    expect(errors).toMatch(/has no exported member 'nope'/)
  })
})
