import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminFixture, type AdminFixture } from '../admin/fixture.js'
import { buildCli, dgate } from './run.js'

let cli: string
let f: AdminFixture
let dir: string
let admin: string[]

beforeAll(async () => {
  cli = await buildCli()
  f = await adminFixture({ admin: { keys: ['apply-key'] } })
  admin = ['--admin', f.url, '--key', 'apply-key']
  dir = mkdtempSync(join(tmpdir(), 'dgate-apply-'))
  writeFileSync(join(dir, 'auth.ts'), 'export const requestModifier = () => {}\n')
}, 60_000)
afterAll(async () => {
  await f.close()
  rmSync(dir, { recursive: true, force: true })
})

function resources(routePaths: string, extra = ''): string {
  const path = join(dir, 'resources.yaml')
  writeFileSync(
    path,
    `namespaces:
  - name: shop
services:
  - name: api
    namespace: shop
    urls: ["http://127.0.0.1:3001"]
modules:
  - name: auth
    namespace: shop
    payload_file: auth.ts
secrets:
  - name: token
    namespace: shop
    data: s3cret-value
collections:
  - name: carts
    namespace: shop
documents:
  - id: c1
    namespace: shop
    collection: carts
    data: { items: 2 }
routes:
  - name: api
    namespace: shop
    paths: [${routePaths}]
    methods: [GET]
    service: api
    modules: [auth]
${extra}`,
  )
  return path
}

describe('dgate apply', () => {
  it('shows the diff, applies it, and a second apply changes nothing', async () => {
    const file = resources('/api/*')
    const first = await dgate(cli, ['apply', '-f', file, ...admin])
    expect(first.stderr).toBe('')
    expect(first.code).toBe(0)
    expect(first.stdout).toBe(
      ['+ namespace shop', '+ secret shop/token', '+ module shop/auth', '+ service shop/api', '+ collection shop/carts', '+ route shop/api', '+ document shop/carts/c1', '7 to create, 0 to update, 0 to delete, 0 unchanged', 'applied', ''].join('\n'),
    )
    expect(f.gw.snapshot.get('route', 'shop', 'api')?.modules).toEqual(['auth'])
    expect(f.gw.snapshot.get('module', 'shop', 'auth')?.payload).toBe('export const requestModifier = () => {}\n')
    const version = f.gw.snapshot.version

    const second = await dgate(cli, ['apply', '-f', file, ...admin])
    expect(second).toEqual({ code: 0, stdout: 'no changes (7 unchanged)\n', stderr: '' })
    expect(f.gw.snapshot.version).toBe(version)
  })

  it('updates what changed, naming the fields; --dry-run changes nothing', async () => {
    const file = resources('/api/*, /v2/*')
    const dry = await dgate(cli, ['apply', '-f', file, '--dry-run', ...admin])
    expect(dry.stdout).toBe('~ route shop/api (paths)\n0 to create, 1 to update, 0 to delete, 6 unchanged\n')
    expect(f.gw.snapshot.get('route', 'shop', 'api')?.paths).toEqual(['/api/*'])
    const real = await dgate(cli, ['apply', '-f', file, ...admin])
    expect(real.stdout).toBe('~ route shop/api (paths)\n0 to create, 1 to update, 0 to delete, 6 unchanged\napplied\n')
    expect(f.gw.snapshot.get('route', 'shop', 'api')?.paths).toEqual(['/api/*', '/v2/*'])
  })

  it('leaves resources absent from the file alone unless --prune, which never deletes namespaces or documents', async () => {
    await f.gw.services.put({ name: 'stray', namespace: 'shop', urls: ['http://127.0.0.1:9'] })
    await f.gw.services.put({ name: 'elsewhere', urls: ['http://127.0.0.1:9'] })
    const file = resources('/api/*, /v2/*')
    expect((await dgate(cli, ['apply', '-f', file, ...admin])).stdout).toBe('no changes (7 unchanged)\n')
    const pruned = await dgate(cli, ['apply', '-f', file, '--prune', ...admin])
    expect(pruned.stdout).toBe('- service shop/stray\n0 to create, 0 to update, 1 to delete, 7 unchanged\napplied\n')
    expect(f.gw.snapshot.get('service', 'shop', 'stray')).toBeUndefined()
    expect(f.gw.snapshot.get('service', 'default', 'elsewhere')).toBeDefined()
    expect((await dgate(cli, ['apply', '-f', file, '--prune', ...admin])).stdout).toBe('no changes (7 unchanged)\n')
  })

  it('refuses an invalid file naming the entry, and changes nothing', async () => {
    const version = f.gw.snapshot.version
    const file = resources('api', '')
    const bad = await dgate(cli, ['apply', '-f', file, ...admin])
    expect(bad).toEqual({ code: 1, stdout: '', stderr: `dgate: ${file}: routes[0]: route "api": paths[0] must start with "/"\n` })
    writeFileSync(join(dir, 'x.yaml'), 'widgets: []\n')
    expect(await dgate(cli, ['apply', '-f', join(dir, 'x.yaml'), ...admin])).toMatchObject({ code: 1, stderr: expect.stringContaining('widgets is not a resource list') })
    expect(await dgate(cli, ['apply', ...admin])).toMatchObject({ code: 2, stderr: 'dgate: dgate apply: -f <file> is required\n' })
    expect(f.gw.snapshot.version).toBe(version)
  })

  it('stops at the first refusal with the server\'s message', async () => {
    const file = join(dir, 'dangling.yaml')
    writeFileSync(file, 'routes:\n  - { name: r, paths: [/r], methods: [GET], service: missing }\n')
    const ran = await dgate(cli, ['apply', '-f', file, ...admin])
    expect(ran.code).toBe(1)
    expect(ran.stdout).toBe('+ route default/r\n1 to create, 0 to update, 0 to delete, 0 unchanged\n')
    expect(ran.stderr).toBe('dgate: 400 error from server: route "r": service "missing" does not exist in namespace "default"\n')
  })
})
