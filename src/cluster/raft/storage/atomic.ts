import { open, rename } from 'node:fs/promises'
import { dirname } from 'node:path'

/** fsyncs a directory so that creations, renames and deletions in it survive a crash. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** Replaces `path` with `bytes` atomically: write a temp file, fsync it, rename over, fsync the directory. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp`
  const fh = await open(tmp, 'w')
  try {
    await fh.writeFile(bytes)
    await fh.sync()
  } finally {
    await fh.close()
  }
  await rename(tmp, path)
  await syncDir(dirname(path))
}
