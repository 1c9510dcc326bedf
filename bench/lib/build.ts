// Bundles a benchmark entry with esbuild at run time, the way bench/run.mjs bundles main.ts. Used for entries that
// import the library's sources (src/), so that a half-written source tree breaks only the target that needs it,
// not the whole benchmark.
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

/** The repository root: the nearest directory above the running bundle that holds bench/run.mjs. */
export function repoRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'bench', 'run.mjs'))) return dir
    if (dirname(dir) === dir) return process.cwd()
  }
}

/** Bundles `entry` (relative to the repository root) into temp/bench/<outName>.mjs and returns the output path. */
export async function bundleEntry(entry: string, outName: string): Promise<string> {
  const root = repoRoot()
  const outfile = join(root, 'temp', 'bench', `${outName}.mjs`)
  await build({ entryPoints: [resolve(root, entry)], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile, packages: 'external', logLevel: 'silent' })
  return outfile
}
