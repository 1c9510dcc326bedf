import { readFileSync } from 'node:fs'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { readFileSync as readTypes } from 'node:fs'

// The example modules type-check against the declarations module authors get (modules/index.d.ts), as they would in
// an editor: the JavaScript ones through their JSDoc (checkJs), modify-json.ts with its import written as a user's
// (`from 'dgate'`). The project's own tsc doesn't see `dgate/*` (declaring those modules here would shadow the
// package), so this is where the examples' use of ctx and dgate/* is checked.
const read = (path: string) => readFileSync(new URL(`../../examples/${path}`, import.meta.url), 'utf8')

function check(files: Record<string, string>): string[] {
  const virtual: Record<string, string> = { '/virtual/dgate-modules.d.ts': readTypes(new URL('../../modules/index.d.ts', import.meta.url), 'utf8'), ...files }
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    allowJs: true,
    checkJs: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    skipLibCheck: true,
    types: [],
  }
  const host = ts.createCompilerHost(options)
  const readFile = host.readFile.bind(host)
  host.readFile = (name) => virtual[name] ?? readFile(name)
  const exists = host.fileExists.bind(host)
  host.fileExists = (name) => name in virtual || exists(name)
  host.directoryExists = (dir) => Object.keys(virtual).some((name) => name.startsWith(`${dir}/`)) || ts.sys.directoryExists(dir)
  const getSource = host.getSourceFile.bind(host)
  host.getSourceFile = (name, version) => (name in virtual ? ts.createSourceFile(name, virtual[name]!, version) : getSource(name, version))
  const program = ts.createProgram(Object.keys(virtual), options, host)
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file && d.start !== undefined ? `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}` : ''
    return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`
  })
}

describe('example modules', () => {
  it('type-check against the authoring types', () => {
    const errors = check({
      '/virtual/ip-hash/ip-hash.js': read('ip-hash/ip-hash.js'),
      '/virtual/url-shortener/shortener.js': read('url-shortener/shortener.js'),
      '/virtual/modify-json/modify-json.ts': read('modify-json/modify-json.ts').replace(`from '../../src/index.js'`, `from 'dgate'`),
      '/virtual/merge-upstreams/merge.js': read('merge-upstreams/merge.js'),
      // What main.js writes as the `sources` sibling module.
      '/virtual/merge-upstreams/sources.d.ts': 'export declare const sources: Record<string, string>',
    })
    expect(errors).toEqual([])
  })

  it('report a misuse, so the check above can fail', () => {
    const errors = check({ '/virtual/bad.js': `import { createHash } from 'dgate/crypto'\n/** @import { ModuleContext } from 'dgate' */\n/** @param {ModuleContext} ctx */\nexport function fetchUpstream(ctx) { return ctx.service().urls[createHash('sha1').digest('hex')] }` })
    expect(errors.join('\n')).toMatch(/possibly 'null'/)
  })
})
