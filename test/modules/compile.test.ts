import { afterAll, describe, expect, it } from 'vitest'
import { checkModule } from '../../src/modules/check.js'
import { ModuleCompileError, compileModule, createProgram, type ModuleSourceInput } from '../../src/modules/compile.js'
import { createRealmRuntime } from '../../src/modules/runtimes/realm.js'
import { FakeHost, exchange } from './helpers.js'

function refusal(fn: () => unknown): ModuleCompileError {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(ModuleCompileError)
    return e as ModuleCompileError
  }
  throw new Error('expected a ModuleCompileError')
}

const rt = createRealmRuntime()
afterAll(() => rt.close())

/** Compiles the modules of one namespace and runs `hook` of the first. */
async function run(modules: ModuleSourceInput[], hook: 'requestModifier' | 'responseModifier' | 'fetchUpstream' = 'requestModifier') {
  const names = modules.map((m) => m.name)
  const program = createProgram('default', modules[0]!.name, modules.map((m) => compileModule(m, names)))
  const { hooks } = await rt.prepare(program)
  const outcome = await rt.run(program.id, hook, exchange({ upstream: { statusCode: 200, headers: [] } }), new FakeHost())
  return { hooks, outcome, program }
}

describe('compile', () => {
  it('compiles TypeScript (types, enums) to an ESM record whose hooks run', async () => {
    const { hooks, outcome, program } = await run([
      {
        name: 'ts',
        moduleType: 'typescript',
        payload: `import type { ModuleContext } from 'dgate'\nenum Tier { Gold = 'gold' }\nexport const requestModifier = (ctx: ModuleContext): void => { ctx.request().headers.set('x-tier', Tier.Gold) }\n`,
      },
    ])
    expect(hooks).toEqual(['requestModifier'])
    expect(program.modules[0]!.format).toBe('esm')
    expect(outcome.request?.headers).toContainEqual(['x-tier', 'gold'])
  })

  it('compiles JavaScript ESM with imports of dgate modules and siblings', async () => {
    const { outcome, program } = await run([
      { name: 'entry', moduleType: 'javascript', payload: `import { tag } from './helper'\nimport { hexEncode } from 'dgate/crypto'\nexport function requestModifier(ctx) { ctx.request().headers.set('x-tag', tag + hexEncode('A')) }` },
      { name: 'helper', moduleType: 'javascript', payload: `export const tag = 'h-'` },
    ])
    expect(program.modules[0]!.dependencies).toEqual({ './helper': 'helper', 'dgate/crypto': 'dgate/crypto' })
    expect(outcome.request?.headers).toContainEqual(['x-tag', 'h-41'])
  })

  it("accepts DGate's CommonJS style: exports.x, require of dgate/* and of a sibling", async () => {
    const { hooks, outcome, program } = await run([
      {
        name: 'cjs',
        moduleType: 'javascript',
        payload: `const { sha1 } = require('dgate/crypto')\nconst helper = require('./lib')\nexports.requestModifier = function (ctx) { ctx.request().headers.set('x-h', helper.prefix + sha1('a', 'hex').slice(0, 4)) }\n`,
      },
      { name: 'lib', moduleType: 'javascript', payload: `module.exports = { prefix: 'p-' }` },
    ])
    expect(program.modules.map((m) => m.format)).toEqual(['cjs', 'cjs'])
    expect(hooks).toEqual(['requestModifier'])
    expect(outcome.request?.headers).toContainEqual(['x-h', 'p-86f7'])
  })

  it('finds hooks in module.exports = {...} (DGate missed those) and in non-exported top-level functions', async () => {
    const { hooks } = await run([
      {
        name: 'mixed',
        moduleType: 'javascript',
        payload: `module.exports = { fetchUpstream: () => 'http://a' }\nfunction responseModifier(ctx) { ctx.upstream().status(201) }\n`,
      },
    ])
    expect(hooks).toEqual(['fetchUpstream', 'responseModifier'])
    const esm = await run([{ name: 'esm-local', moduleType: 'javascript', payload: `export const x = 1\nfunction responseModifier(ctx) { ctx.upstream().status(202) }` }], 'responseModifier')
    expect(esm.hooks).toEqual(['responseModifier'])
    expect(esm.outcome.upstream?.statusCode).toBe(202)
  })

  it('lets an ESM module import a CommonJS sibling by its default export', async () => {
    const { outcome } = await run([
      { name: 'esm', moduleType: 'javascript', payload: `import lib from 'old'\nexport const fetchUpstream = () => lib.url` },
      { name: 'old', moduleType: 'javascript', payload: `exports.url = 'http://legacy:1'` },
    ], 'fetchUpstream')
    expect(outcome.result).toBe('http://legacy:1')
  })

  it('refuses a JavaScript syntax error with its line and column', () => {
    const e = refusal(() => compileModule({ name: 'bad', moduleType: 'javascript', payload: 'export const a = 1\nconst b = ;\n' }, []))
    expect([e.line, e.column]).toEqual([2, 11])
    expect(e.message).toBe('module "bad": payload at line 2, column 11: Unexpected token')
  })

  it('refuses a TypeScript syntax error with its line', () => {
    const e = refusal(() => compileModule({ name: 'bad-ts', moduleType: 'typescript', payload: 'let ok = 1\n\nlet a: number = ;\n' }, []))
    expect(e.line).toBe(3)
    expect(e.reason).toBe('Unexpected token')
  })

  it('refuses a syntax error in CommonJS style at the line of the payload', () => {
    const e = refusal(() => compileModule({ name: 'bad-cjs', moduleType: 'javascript', payload: 'exports.a = 1\nexports.b = )\n' }, []))
    expect(e.line).toBe(2)
  })

  it('refuses imports outside dgate/* and the namespace, naming the line', () => {
    const fs = refusal(() => compileModule({ name: 'm', moduleType: 'javascript', payload: `export const a = 1\nimport fs from 'node:fs'\n` }, ['m', 'other']))
    expect(fs.line).toBe(2)
    expect(fs.reason).toBe('import "node:fs" is not allowed: only dgate, dgate/http, dgate/crypto, dgate/state, dgate/storage, dgate/util and the namespace\'s modules (other)')
    const required = refusal(() => compileModule({ name: 'c', moduleType: 'javascript', payload: `\n\nconst cp = require('child_process')\n` }, ['c']))
    expect(required.line).toBe(3)
    expect(required.reason).toMatch(/^import "child_process" is not allowed/)
    const missing = refusal(() => compileModule({ name: 'x', moduleType: 'javascript', payload: `import './gone'` }, ['x']))
    expect(missing.reason).toMatch(/^import "\.\/gone" is not allowed/)
    const unknownDgate = refusal(() => compileModule({ name: 'y', moduleType: 'javascript', payload: `import 'dgate/x'` }, ['y']))
    expect(unknownDgate.reason).toMatch(/^import "dgate\/x" is not allowed/)
  })

  it('refuses top-level await with its line', () => {
    const e = refusal(() => compileModule({ name: 'tla', moduleType: 'javascript', payload: `export const a = 1\n\nconst b = await Promise.resolve(1)\n` }, []))
    expect(e.line).toBe(3)
    expect(e.reason).toBe('top-level await is not supported')
  })

  it('caches by content: the same payload is parsed once, a changed one gets a new hash and program id', () => {
    const a = compileModule({ name: 'c1', moduleType: 'javascript', payload: 'export const requestModifier = () => 1' }, [])
    const b = compileModule({ name: 'c1', moduleType: 'javascript', payload: 'export const requestModifier = () => 1' }, [])
    const c = compileModule({ name: 'c1', moduleType: 'javascript', payload: 'export const requestModifier = () => 2' }, [])
    expect(b.record).toBe(a.record)
    expect(c.hash).not.toBe(a.hash)
    expect(createProgram('ns', 'c1', [a]).id).toBe(createProgram('ns', 'c1', [b]).id)
    expect(createProgram('ns', 'c1', [c]).id).not.toBe(createProgram('ns', 'c1', [a]).id)
  })
})

describe('checkModule', () => {
  it('accepts a module whose top-level code runs, and returns it compiled', () => {
    const compiled = checkModule({ name: 'ok', moduleType: 'typescript', payload: `import { tag } from 'lib'\nconst table: Record<string, number> = { a: 1 }\nexport const requestModifier = () => table.a + tag` }, [{ name: 'lib', moduleType: 'javascript', payload: 'export const tag = 1' }])
    expect(compiled.name).toBe('ok')
  })

  it('refuses a module that throws in its top-level code, with the line and the reason', () => {
    const e = refusal(() => checkModule({ name: 'thrower', moduleType: 'javascript', payload: `export const a = 1\n\nfunction boot() { throw new Error('no config') }\nboot()\n` }, []))
    expect(e.reason).toBe('top-level code threw: no config')
    expect(e.line).toBe(3)
  })

  it('refuses a hook export that is not a function', () => {
    const e = refusal(() => checkModule({ name: 'notfn', moduleType: 'javascript', payload: `export const requestModifier = 'nope'` }, []))
    expect(e.reason).toBe('invalid hook: requestModifier is a string, not a function')
  })

  it('refuses top-level code that does not finish', () => {
    const e = refusal(() => checkModule({ name: 'spin', moduleType: 'javascript', payload: `while (true) {}` }, [], { timeoutMs: 50 }))
    expect(e.reason).toBe('top-level code did not finish within 50 ms')
  })

  it('refuses a module whose imported sibling throws at top level or does not compile', () => {
    const throws = refusal(() => checkModule({ name: 'uses', moduleType: 'javascript', payload: `import 'dep'` }, [{ name: 'dep', moduleType: 'javascript', payload: `\nthrow new Error('dep broken')` }]))
    expect(throws.reason).toBe('top-level code threw in imported module "dep" at line 2: dep broken')
    const broken = refusal(() => checkModule({ name: 'uses2', moduleType: 'javascript', payload: `import 'dep2'` }, [{ name: 'dep2', moduleType: 'javascript', payload: `const = 1` }]))
    expect(broken.reason).toMatch(/^imports "dep2", which is refused: at line 1, column \d+: Unexpected token/)
  })
})
