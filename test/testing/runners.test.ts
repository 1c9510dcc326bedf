import { spawnSync } from 'node:child_process'
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
})
