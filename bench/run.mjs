#!/usr/bin/env node
// Runs a TypeScript benchmark: bundles it (and the sources it imports) with esbuild into temp/, then runs it
// with plain node, passing the remaining arguments through. Usage: node bench/run.mjs bench/state/main.ts [args]
import { spawnSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const [entry, ...args] = process.argv.slice(2)
if (!entry) {
  console.error('usage: node bench/run.mjs <bench/NAME/main.ts> [args…]')
  process.exit(2)
}
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const outdir = join(root, 'temp', 'bench', basename(dirname(resolve(entry))))
mkdirSync(outdir, { recursive: true })
const outfile = join(outdir, 'main.mjs')
await build({ entryPoints: [resolve(entry)], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile, packages: 'external', logLevel: 'warning' })
const run = spawnSync(process.execPath, ['--expose-gc', outfile, ...args], { stdio: 'inherit' })
process.exit(run.status ?? 1)
