// A child process that writes services to a file-backed gateway and prints each one as soon as its put resolves.
// The parent kills it with SIGKILL mid-stream and checks that every acknowledged write survived.
import { createGateway } from '../../src/index.js'

const dir = process.argv[2]!
const gw = await createGateway({ storage: { dir }, snapshotEvery: 40 })
process.stdout.write('ready\n')
for (let i = 0; ; i++) {
  // Several writes in flight at once, so group commits and compactions happen while the parent pulls the plug.
  await Promise.all(
    [0, 1, 2, 3].map(async (j) => {
      const name = `s${i * 4 + j}`
      await gw.services.put({ name, urls: [`http://127.0.0.1:${1000 + j}`] })
      process.stdout.write(`${name}\n`)
    }),
  )
}
