import { spawnSync } from 'node:child_process'
import { renameSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { bundleForNode } from '../helpers/bundle.js'

describe('dgate/testing outside vitest', () => {
  it('runs under node:test, and closed harnesses leave nothing that keeps the process alive', async () => {
    const file = await bundleForNode(fileURLToPath(new URL('./fixtures/node-test.ts', import.meta.url)))
    const run = spawnSync(process.execPath, ['--test', '--test-reporter=tap', file], { encoding: 'utf8', timeout: 30_000 })
    expect(run.stdout).toMatch(/^# pass 2$/m)
    expect(run.stdout).toMatch(/^# fail 0$/m)
    expect(run.status).toBe(0)
  })

  it('runs under jest (ESM, as jest documents it: --experimental-vm-modules)', async () => {
    const bundle = await bundleForNode(fileURLToPath(new URL('./fixtures/jest-test.ts', import.meta.url)))
    // jest finds tests by name; the bundle's directory is the whole jest project.
    const file = join(dirname(bundle), 'harness.test.mjs')
    renameSync(bundle, file)
    const jest = createRequire(import.meta.url).resolve('jest/bin/jest')
    const run = spawnSync(process.execPath, ['--experimental-vm-modules', jest, '--rootDir', dirname(file), '--config', '{}', '--ci', '--colors=false'], { encoding: 'utf8', timeout: 60_000 })
    expect(run.stderr).toMatch(/^Tests: +3 passed, 3 total$/m)
    expect(run.status).toBe(0)
  })
})
