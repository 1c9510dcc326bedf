import { mkdirSync, mkdtempSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

/**
 * Bundles a TypeScript entry (and the sources it imports) into one ESM file that a plain `node` child process can
 * run, so tests can kill a real process without depending on a prior build.
 */
export async function bundleForNode(entry: string): Promise<string> {
  // Inside the project, so the external packages resolve from its node_modules.
  const temp = fileURLToPath(new URL('../../temp/', import.meta.url))
  mkdirSync(temp, { recursive: true })
  const outfile = join(mkdtempSync(join(temp, 'bundle-')), 'main.mjs')
  await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile, packages: 'external', logLevel: 'silent' })
  return outfile
}
