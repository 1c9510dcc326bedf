import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/**
 * Builds the dgate command from the sources into one file that plain `node` runs, as tsup builds dist/cli/main.js,
 * so the tests run the command as a child process without depending on a prior (maybe stale) build.
 */
export async function buildCli(): Promise<string> {
  const temp = join(ROOT, 'temp')
  mkdirSync(temp, { recursive: true })
  const outdir = mkdtempSync(join(temp, 'cli-'))
  // Split like tsup's build, so that commands load only what they use.
  await build({ entryPoints: { dgate: join(ROOT, 'src/cli/main.ts') }, bundle: true, splitting: true, platform: 'node', format: 'esm', target: 'node20', outdir, outExtension: { '.js': '.mjs' }, packages: 'external', logLevel: 'silent' })
  return join(outdir, 'dgate.mjs')
}

/** What a finished command did. */
export interface Ran {
  code: number
  stdout: string
  stderr: string
}

/** Runs the built command to completion. */
export function dgate(cli: string, args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { cwd: options.cwd ?? ROOT, env: { PATH: process.env.PATH ?? '', ...options.env }, timeout: 15_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0
      resolve({ code, stdout, stderr })
    })
  })
}

/** Starts the built command in the background (for `serve`), collecting its output. */
export function start(cli: string, args: string[], env: Record<string, string> = {}): { child: ChildProcess; output: () => string; exited: Promise<number | null>; waitFor: (text: string) => Promise<void> } {
  const child = spawn(process.execPath, [cli, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const waiters: (() => void)[] = []
  const onData = (d: Buffer) => {
    output += d.toString('utf8')
    for (const w of waiters.splice(0)) w()
  }
  child.stdout!.on('data', onData)
  child.stderr!.on('data', onData)
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const waitFor = async (text: string) => {
    const deadline = Date.now() + 10_000
    while (!output.includes(text)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`"${text}" never appeared; output:\n${output}`)
      await new Promise<void>((resolve) => {
        waiters.push(resolve)
        setTimeout(resolve, 100)
      })
    }
  }
  return { child, output: () => output, exited, waitFor }
}

/** A port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
