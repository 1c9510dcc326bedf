import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach } from 'vitest'

/**
 * A fresh temporary directory per test (removed after it): `file(name, text)` writes a file there and returns its
 * path, `path(name)` is where a file of that name goes. Call at the top level of a test file.
 */
export function tempFiles(prefix: string): { file: (name: string, text: string) => string; path: (name: string) => string } {
  let dir = ''
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), prefix))
  })
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true })
  })
  const path = (name: string): string => join(dir, name)
  return {
    path,
    file(name, text) {
      writeFileSync(path(name), text)
      return path(name)
    },
  }
}
