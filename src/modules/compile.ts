import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import vm from 'node:vm'
import { transform } from 'sucrase'
import { ValidationError } from '../errors.js'
import type { CompiledModule, CompiledProgram, ModuleRecord } from './types.js'

/** The built-in imports a module may use. */
export const DGATE_IMPORTS: readonly string[] = ['dgate', 'dgate/http', 'dgate/crypto', 'dgate/state', 'dgate/storage', 'dgate/util']

const HOOKS = ['fetchUpstream', 'requestModifier', 'responseModifier', 'errorHandler', 'requestHandler'] as const

/** What compile needs of a module resource. */
export interface ModuleSourceInput {
  /** The module name (its specifier for siblings). */
  name: string
  /** The namespace, for messages and URLs. */
  namespace?: string
  /** Source text. */
  payload: string
  /** `typescript` (default) or `javascript`. */
  moduleType?: 'typescript' | 'javascript'
}

/**
 * A module was refused at compile time: a syntax error, a disallowed import, top-level await, or (from
 * `checkModule`) an error thrown by its top-level code. The message reads
 * `module "name": payload at line 3, column 7: <reason>`.
 */
export class ModuleCompileError extends ValidationError {
  /** 1-based line in the payload, when known. */
  readonly line: number | undefined
  /** 1-based column, when known. */
  readonly column: number | undefined
  /** The reason without the position. */
  readonly reason: string
  constructor(moduleName: string, reason: string, line?: number, column?: number) {
    const at = line === undefined ? '' : column === undefined ? `at line ${line}: ` : `at line ${line}, column ${column}: `
    super('module', moduleName, [{ field: 'payload', reason: `${at}${reason}` }])
    this.name = 'ModuleCompileError'
    this.line = line
    this.column = column
    this.reason = reason
  }
}

/** Parsed module, before the import check (which depends on the sibling names). Cached by content hash. */
interface Parsed {
  format: 'esm' | 'cjs'
  record: ModuleRecord
  /** The JavaScript the record was made from (for locating imports in messages). */
  js: string
}

type ModuleSourceConstructor = new (source: string, options: { sourceUrl: string }) => object

let moduleSourceClass: ModuleSourceConstructor | undefined
/**
 * `@endo/module-source` (Babel) is loaded on first compile, not at import: it costs about 300 ms and 27 MB, which a
 * gateway without modules should not pay. Loaded with `require` (Node 20.19+ loads ESM that way synchronously),
 * because compile must stay synchronous for the state's apply check. Its shipped types point at `.ts` sources that
 * do not type-check here, hence the local type. It adds no globals and touches no prototypes (sandbox.md §6).
 */
function ModuleSource(): ModuleSourceConstructor {
  return (moduleSourceClass ??= (createRequire(import.meta.url)('@endo/module-source') as { ModuleSource: ModuleSourceConstructor }).ModuleSource)
}

/**
 * Loads the compiler with `import()` ahead of a compile. Needed where `require` cannot load an ES module: Node 20's
 * own `require` can (20.19+), but the one test runners like jest give sandboxed code cannot, so
 * `createModuleHarness` calls this first.
 */
export async function loadCompiler(): Promise<void> {
  moduleSourceClass ??= ((await import('@endo/module-source')) as unknown as { ModuleSource: ModuleSourceConstructor }).ModuleSource
}

const CACHE_LIMIT = 512
const cache = new Map<string, Parsed>()

/** sha256 of the module type and payload: the cache key and the version part of program ids. */
export function moduleHash(input: ModuleSourceInput): string {
  return createHash('sha256').update(input.moduleType ?? 'typescript').update('\0').update(input.payload).digest('hex')
}

/**
 * Compiles one module: TypeScript through sucrase (ESM kept), DGate's CommonJS/script style wrapped into ESM (see
 * {@link wrapCommonJs}), ESM parsed into a `ModuleSource` record on the host, top-level await refused, and every
 * import checked against `dgate`, `dgate/*` and the names of `siblings` (the other modules of the namespace).
 * Throws {@link ModuleCompileError} with the line and the reason.
 */
export function compileModule(input: ModuleSourceInput, siblings: Iterable<string>): CompiledModule {
  const hash = moduleHash(input)
  let parsed = cache.get(hash)
  if (!parsed) {
    parsed = parse(input)
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string)
    cache.set(hash, parsed)
  }
  const names = new Set(siblings)
  const dependencies: Record<string, string> = {}
  for (const spec of parsed.record.imports) {
    const target = resolveImport(spec, names, input.name)
    if (target === undefined) {
      const line = lineOf(parsed.js, spec)
      const others = [...names].filter((n) => n !== input.name)
      const allowed = `${DGATE_IMPORTS.join(', ')}${others.length > 0 ? ` and the namespace's modules (${others.join(', ')})` : ''}`
      throw new ModuleCompileError(input.name, `import "${spec}" is not allowed: only ${allowed}`, line)
    }
    dependencies[spec] = target
  }
  return { name: input.name, hash, format: parsed.format, record: parsed.record, dependencies }
}

/** What an import specifier loads: a `dgate…` id or a sibling module name (`./name`, `name`, `name.js` or `name.ts`). */
export function resolveImport(spec: string, siblings: ReadonlySet<string>, self: string): string | undefined {
  if (DGATE_IMPORTS.includes(spec)) return spec
  const bare = spec.replace(/^(\.\/)+/, '')
  for (const candidate of [bare, bare.replace(/\.(m?js|ts)$/, '')]) {
    if (candidate !== self && siblings.has(candidate)) return candidate
  }
  return undefined
}

/** A stable id for a program: namespace, entry, and every module's name and content hash. */
export function createProgram(namespace: string, entry: string, modules: CompiledModule[]): CompiledProgram {
  const h = createHash('sha256').update(namespace).update('\0').update(entry)
  for (const m of [...modules].sort((a, b) => (a.name < b.name ? -1 : 1))) h.update('\0').update(m.name).update('\0').update(m.hash)
  return { id: `${namespace}/${entry}@${h.digest('hex').slice(0, 24)}`, entry, modules }
}

function parse(input: ModuleSourceInput): Parsed {
  const js = input.moduleType === 'javascript' ? input.payload : transpile(input)
  const url = sourceUrl(input)
  let record = toRecord(input.name, js, url, 0)
  let format: 'esm' | 'cjs' = 'esm'
  let text = js
  if (record.imports.length === 0 && record.exports.length === 0 && (record.reexports as unknown[]).length === 0 && !hasModuleSyntax(js)) {
    format = 'cjs'
    const prelude = commonJsPrelude(js)
    text = prelude + js + commonJsSuffix()
    record = toRecord(input.name, text, url, prelude.length)
  } else {
    const suffix = hookSuffix(js, record.exports)
    if (suffix !== '') {
      text = js + suffix
      record = toRecord(input.name, text, url, 0)
    }
  }
  refuseTopLevelAwait(input.name, record)
  return { format, record, js }
}

function transpile(input: ModuleSourceInput): string {
  try {
    // Types only: imports/exports stay ESM; sucrase keeps line numbers, so positions in later errors still match.
    return transform(input.payload, { transforms: ['typescript'], disableESTransforms: true }).code
  } catch (e) {
    const loc = (e as { loc?: { line: number; column: number } }).loc
    const reason = String((e as Error).message).replace(/\s*\(\d+:\d+\)$/, '')
    throw new ModuleCompileError(input.name, reason, loc?.line, loc ? loc.column : undefined)
  }
}

function sourceUrl(input: ModuleSourceInput): string {
  return `dgate-module://${encodeURIComponent(input.namespace ?? 'default')}/${encodeURIComponent(input.name)}`
}

/** SES refuses program text that looks like `import(` anywhere, comments included (a JSDoc `import('dgate')` type). */
const IMPORT_LOOKALIKE = /\bimport\s*(?:\(|\/[/*])/

type BabelParse = (code: string, options: object) => { comments?: { start: number; end: number }[] }
let babelParse: BabelParse | undefined

/**
 * Blanks the text of comments (keeping line breaks, so lines and columns stay right) when it would trip SES's
 * import-expression check. Babel comes from @endo/module-source's own dependencies: it is already loaded to parse.
 */
function blankComments(js: string): string {
  if (!IMPORT_LOOKALIKE.test(js)) return js
  babelParse ??= (createRequire(createRequire(import.meta.url).resolve('@endo/module-source'))('@babel/parser') as { parse: BabelParse }).parse
  let comments: { start: number; end: number }[]
  try {
    comments = babelParse(js, { sourceType: 'module', allowReturnOutsideFunction: true }).comments ?? []
  } catch {
    return js // a syntax error: let ModuleSource report it with its position
  }
  let out = ''
  let at = 0
  for (const { start, end } of comments) {
    const text = js.slice(start, end)
    if (!IMPORT_LOOKALIKE.test(text)) continue
    out += js.slice(at, start) + text.replace(/[^\n]/g, ' ')
    at = end
  }
  return out + js.slice(at)
}

function toRecord(name: string, source: string, url: string, firstLineShift: number): ModuleRecord {
  const js = blankComments(source)
  try {
    // A plain JSON copy: the record is data, ready to be copied into a realm or posted to a worker.
    return JSON.parse(JSON.stringify(new (ModuleSource())(js, { sourceUrl: url }))) as ModuleRecord
  } catch (e) {
    const m = /\((\d+):(\d+)\)\s*$/.exec(String((e as Error).message))
    const reason = String((e as Error).message)
      .replace(/^Error transforming source in "[^"]*":\s*/, '')
      .replace(/\s*\(\d+:\d+\)\s*$/, '')
    if (!m) throw new ModuleCompileError(name, reason)
    const line = Number(m[1])
    const column = Number(m[2]) + 1 - (line === 1 ? firstLineShift : 0)
    throw new ModuleCompileError(name, reason, line, column)
  }
}

/** ModuleSource accepts top-level await and the program then fails when it runs; compiling it (without running) catches that. */
function refuseTopLevelAwait(name: string, record: ModuleRecord): void {
  try {
    new vm.Script(String(record.__syncModuleProgram__), { filename: 'module' })
  } catch (e) {
    const stack = String((e as Error).stack ?? '')
    const line = /^module:(\d+)/.exec(stack)
    const reason = /await is only valid/.test(String((e as Error).message)) ? 'top-level await is not supported' : String((e as Error).message)
    throw new ModuleCompileError(name, reason, line ? Number(line[1]) : undefined)
  }
}

function hasModuleSyntax(js: string): boolean {
  return /^\s*(import\s*[\w*{'"]|export\s)/m.test(js)
}

function lineOf(js: string, spec: string): number | undefined {
  for (const quote of ["'", '"', '`']) {
    const at = js.indexOf(quote + spec + quote)
    if (at >= 0) return js.slice(0, at).split('\n').length
  }
  return undefined
}

/** `require('x')` calls with a literal argument, in order of appearance. */
function requiredSpecifiers(js: string): string[] {
  const out: string[] = []
  for (const m of js.matchAll(/\brequire\s*\(\s*(['"])([^'"\n]+)\1\s*\)/g)) if (!out.includes(m[2]!)) out.push(m[2]!)
  return out
}

/**
 * DGate's CommonJS/script style, wrapped into ESM. The rule:
 * - A module with no `import`/`export` statement is CommonJS-style. It runs with `module`, `exports`
 *   (`module.exports === exports` initially) and a `require` that serves `dgate`, `dgate/*` and sibling modules
 *   named by a literal `require('x')` anywhere in the source (they become static imports, so they are checked at
 *   compile time and loaded before the module; a computed `require(x)` only finds those).
 * - `require` of a CommonJS sibling returns its `module.exports`; of an ESM sibling, its namespace.
 * - Each hook is looked up as DGate does, with its `module.exports = {…}` bug fixed: `module.exports.N`, else
 *   `exports.N` (if `exports` was rebound), else a top-level function named N (exported or not).
 * - The module's `default` export is its final `module.exports`, so ESM siblings can `import x from 'cjs-module'`.
 * The prelude sits on the first line (no newline), so line numbers stay those of the payload; the suffix follows
 * the last line.
 */
export function wrapCommonJs(js: string): string {
  return commonJsPrelude(js) + js + commonJsSuffix()
}

function commonJsPrelude(js: string): string {
  const specs = requiredSpecifiers(js)
  const imports = specs.map((s, i) => `import * as __dgate$r${i} from ${JSON.stringify(s)};`).join('')
  const cases = specs.map((s, i) => `case ${JSON.stringify(s)}: return __dgate$cjs(__dgate$r${i});`).join('')
  return (
    `${imports}const __dgate$cjs = (ns) => (ns.__dgate$commonjs === true ? ns.default : ns);` +
    `const module = { exports: {} }; let exports = module.exports;` +
    `const require = (spec) => { switch (spec) { ${cases} } throw new Error('Cannot find module ' + JSON.stringify(String(spec)) + ' (only dgate, dgate/* and literal require() of sibling modules)'); };`
  )
}

function commonJsSuffix(): string {
  const pick =
    `const __dgate$pick = (n, local) => { const m = module.exports; ` +
    `if (m !== null && (typeof m === 'object' || typeof m === 'function') && m[n] !== undefined) return m[n]; ` +
    `if (exports !== m && exports !== null && typeof exports === 'object' && exports[n] !== undefined) return exports[n]; return local; };`
  const hooks = HOOKS.map((h, i) => `const __dgate$h${i} = __dgate$pick('${h}', typeof ${h} === 'function' ? ${h} : undefined); export { __dgate$h${i} as ${h} };`).join('')
  return `\n;${pick}${hooks}const __dgate$default = module.exports; export { __dgate$default as default }; export const __dgate$commonjs = true;\n`
}

/** DGate also finds a hook that is a top-level function but not exported; so does an ESM module here. */
function hookSuffix(js: string, exported: readonly string[]): string {
  const missing = HOOKS.filter((h) => !exported.includes(h) && new RegExp(`\\b${h}\\b`).test(js))
  if (missing.length === 0) return ''
  return `\n;${missing.map((h) => `const __dgate$l_${h} = typeof ${h} === 'function' ? ${h} : undefined; export { __dgate$l_${h} as ${h} };`).join('')}\n`
}
