import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAdminClient } from '../../src/index.js'
import { buildCli, dgate, freePort, start } from './run.js'

let cli: string
let dir: string
beforeAll(async () => {
  cli = await buildCli()
  dir = mkdtempSync(join(tmpdir(), 'dgate-serve-'))
}, 60_000)
afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

describe('dgate serve --config examples/dgate.yaml', () => {
  it('serves the proxied route, the module route and the admin API, and drains on SIGTERM with exit 0', async () => {
    const [port, adminPort] = [await freePort(), await freePort()]
    const serve = start(cli, ['serve', '--config', 'examples/dgate.yaml'], { DGATE_PORT: String(port), DGATE_ADMIN_PORT: String(adminPort), DGATE_ADMIN_KEY: 'example-key' })
    try {
      await serve.waitFor(`admin listening on http://127.0.0.1:${adminPort}`)
      expect(serve.output()).toContain(`proxy listening on http://127.0.0.1:${port}`)

      const proxied = await request(`http://127.0.0.1:${port}/healthz`)
      expect(proxied.statusCode).toBe(200)
      expect(proxied.headers['x-served-by']).toBe('dgate')
      expect(await proxied.body.json()).toEqual({ status: 'ok' })

      const admin = createAdminClient(`http://127.0.0.1:${adminPort}`, { key: 'example-key' })
      expect((await admin.routes.list()).map((r) => r.name)).toEqual(['health', 'hello'])
      expect(await admin.routes.get('hello')).toMatchObject({ paths: ['/hello/{name}'], modules: ['hello'] })
      expect((await admin.modules.get('hello'))?.payload).toContain('export const requestHandler')
      const refused = await request(`http://127.0.0.1:${adminPort}/api/v1/route`)
      expect(refused.statusCode).toBe(401)
      await refused.body.dump()

      // The module route exists: it is routed (not a 404), whatever the module runtime answers.
      const hello = await request(`http://127.0.0.1:${port}/hello/bob`)
      expect([hello.statusCode, await hello.body.json()]).toEqual([200, { hello: 'bob' }])
      const unrouted = await request(`http://127.0.0.1:${port}/nowhere`)
      expect(unrouted.statusCode).toBe(404)
      await unrouted.body.dump()
    } finally {
      serve.child.kill('SIGTERM')
    }
    expect(await serve.exited).toBe(0)
    expect(serve.output()).toContain('SIGTERM: draining')
  })
})

describe('dgate serve with a bad config', () => {
  it.each([
    ['a wrong key', 'proxy:\n  prot: 8080\n', 'proxy.prot is not a known key (did you mean "port"?)'],
    ['a wrong type', 'proxy:\n  port: ${PORT:-eighty}\n', 'proxy.port must be an integer, not "eighty"'],
    ['key auth without keys', 'admin:\n  port: 0\n  auth_method: key\n', 'admin.key_auth.keys is required when admin.auth_method is "key"'],
  ])('fails at start on %s, naming it, with exit code 1', async (_label, text, message) => {
    const file = join(dir, 'bad.yaml')
    writeFileSync(file, text)
    const ran = await dgate(cli, ['serve', '--config', file])
    expect(ran).toEqual({ code: 1, stdout: '', stderr: `dgate: ${file}: ${message}\n` })
  })

  it('fails with exit code 1 when a port is taken', async () => {
    const port = await freePort()
    const file = join(dir, 'twice.yaml')
    writeFileSync(file, `proxy:\n  host: 127.0.0.1\n  port: ${port}\nadmin:\n  port: ${port}\n`)
    const ran = await dgate(cli, ['serve', '--config', file])
    expect(ran.code).toBe(1)
    expect(ran.stderr).toMatch(/EADDRINUSE/)
  })

  it('requires --config', async () => {
    expect(await dgate(cli, ['serve'])).toMatchObject({ code: 2, stderr: 'dgate: dgate serve: --config <file> is required\n' })
  })
})

describe('dgate check', () => {
  it('still validates a config file', async () => {
    const ok = await dgate(cli, ['check', '--config', 'examples/dgate.yaml'])
    expect(ok).toEqual({ code: 0, stdout: 'examples/dgate.yaml: ok (1 namespace, 0 domains, 1 service, 1 module, 2 routes, 0 collections, 0 secrets)\n', stderr: '' })
    const file = join(dir, 'bad-route.yaml')
    writeFileSync(file, 'init_resources:\n  routes:\n    - { name: r, paths: [x], methods: [GET] }\n')
    expect(await dgate(cli, ['check', '--config', file])).toEqual({ code: 1, stdout: '', stderr: `dgate: ${file}: init_resources.routes[0]: route "r": paths[0] must start with "/"\n` })
  })
})
