import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminFixture, type AdminFixture } from '../admin/fixture.js'
import { buildCli, dgate, freePort } from './run.js'

let cli: string
let f: AdminFixture
let dir: string
const KEY = 'cli-test-key'
let admin: string[]

beforeAll(async () => {
  cli = await buildCli()
  f = await adminFixture({ admin: { keys: [KEY] } })
  admin = ['--admin', f.url, '--key', KEY]
  dir = mkdtempSync(join(tmpdir(), 'dgate-cli-'))
}, 60_000)
afterAll(async () => {
  await f.close()
  rmSync(dir, { recursive: true, force: true })
})

const json = (stdout: string) => JSON.parse(stdout) as unknown

describe('resource commands', () => {
  it('create, get, list and delete every kind, with dgate-cli aliases and argument forms', async () => {
    writeFileSync(join(dir, 'mod.ts'), 'export const requestHandler = () => {}\n')
    const run = async (...args: string[]) => {
      const ran = await dgate(cli, [...args, ...admin])
      expect(ran.stderr).toBe('')
      expect(ran.code).toBe(0)
      return json(ran.stdout)
    }
    expect(await run('ns', 'mk', 'name=team', 'tags=a,b')).toEqual({ name: 'team', tags: ['a', 'b'] })
    expect(await run('service', 'create', 'name=s', 'namespace=team', 'urls=http://127.0.0.1:1,http://127.0.0.1:2', 'retries:=1', 'requestTimeout=5s')).toMatchObject({ urls: ['http://127.0.0.1:1', 'http://127.0.0.1:2'], retries: 1, requestTimeout: 5000 })
    expect(await run('mod', 'create', 'name=m', 'namespace=team', `payload=@${join(dir, 'mod.ts')}`)).toMatchObject({ payload: 'export const requestHandler = () => {}\n', moduleType: 'typescript' })
    expect(await run('rt', 'create', 'name=r', 'namespace=team', 'paths=/x,/y', 'methods=GET,POST', 'service=s', 'modules=m', 'stripPath=true')).toMatchObject({ paths: ['/x', '/y'], methods: ['GET', 'POST'], stripPath: true })
    expect(await run('dom', 'mk', 'name=d', 'namespace=team', 'patterns=team.test', 'priority=3')).toMatchObject({ priority: 3 })
    expect(await run('col', 'mk', 'name=c', 'namespace=team', 'schema:={"type":"object"}', 'visibility=public')).toMatchObject({ schema: { type: 'object' } })
    expect(await run('doc', 'mk', 'id=d1', 'collection=c', 'namespace=team', 'data={"a":1}')).toMatchObject({ id: 'd1', data: { a: 1 } })
    expect(await run('sec', 'mk', 'name=k', 'namespace=team', 'data=top-secret')).toEqual({ name: 'k', namespace: 'team', tags: [] })

    expect(await run('route', 'get', 'r', 'namespace=team')).toMatchObject({ name: 'r', service: 's' })
    expect(await run('route', 'get', 'name=r', 'namespace=team')).toMatchObject({ name: 'r' })
    expect(await run('doc', 'get', 'id=d1', 'collection=c', 'namespace=team')).toMatchObject({ data: { a: 1 } })
    expect(await run('doc', 'ls', 'collection=c', 'namespace=team', 'limit=5')).toMatchObject([{ id: 'd1' }])
    expect(await run('ns', 'ls')).toEqual([{ name: 'default', tags: ['default'] }, { name: 'team', tags: ['a', 'b'] }])
    for (const kind of ['service', 'module', 'route', 'domain', 'collection', 'secret']) expect(await run(kind, 'list', 'namespace=team')).toHaveLength(1)
    const secrets = JSON.stringify(await run('secret', 'list', 'namespace=team'))
    expect(secrets).not.toContain('top-secret')

    expect(await run('doc', 'rm', 'd1', 'collection=c', 'namespace=team')).toEqual({ deleted: { kind: 'document', id: 'd1', collection: 'c', namespace: 'team' } })
    for (const kind of ['route', 'domain', 'collection', 'service', 'module', 'secret']) {
      const [item] = (await run(kind, 'ls', 'namespace=team')) as { name: string }[]
      expect(await run(kind, 'rm', `name=${item!.name}`, 'namespace=team')).toEqual({ deleted: { kind, name: item!.name, namespace: 'team' } })
      expect(await run(kind, 'ls', 'namespace=team')).toEqual([])
    }
    expect(await run('namespace', 'delete', 'team')).toEqual({ deleted: { kind: 'namespace', name: 'team' } })
    expect(f.gw.snapshot.namespace('team')).toBeUndefined()
  }, 60_000)

  it('exits 1 with the server\'s message when the server refuses', async () => {
    const bad = await dgate(cli, ['route', 'create', 'name=r', 'paths=x', 'methods=GET', ...admin])
    expect(bad).toEqual({ code: 1, stdout: '', stderr: 'dgate: 400 error from server: route "r": paths[0] must start with "/"\n' })
    const missing = await dgate(cli, ['service', 'get', 'nope', ...admin])
    expect(missing).toEqual({ code: 1, stdout: '', stderr: 'dgate: 404 error from server: service "nope" not found\n' })
    const gone = await dgate(cli, ['service', 'rm', 'nope', ...admin])
    expect(gone).toEqual({ code: 1, stdout: '', stderr: 'dgate: 404 error from server: service "nope" not found in namespace "default"\n' })
    const wrongKey = await dgate(cli, ['route', 'ls', '--admin', f.url, '--key', 'nope'])
    expect(wrongKey).toEqual({ code: 1, stdout: '', stderr: 'dgate: 401 error from server: unauthorized: send a valid API key in x-dgate-key\n' })
  })

  it('takes the admin URL and key from the environment', async () => {
    const ran = await dgate(cli, ['ns', 'ls'], { env: { DGATE_ADMIN_API: f.url, DGATE_ADMIN_KEY: KEY } })
    expect(ran.code).toBe(0)
    expect(json(ran.stdout)).toContainEqual({ name: 'default', tags: ['default'] })
  })

  it('exits 2 on bad usage, naming what is wrong, and sends nothing', async () => {
    const version = f.gw.snapshot.version
    expect(await dgate(cli, ['route', 'create', 'name=r', ...admin])).toEqual({ code: 2, stdout: '', stderr: 'dgate: missing required fields for route create: paths, methods (see dgate route create --help)\n' })
    expect(await dgate(cli, ['route', 'create', 'name=r', 'paths=/', 'methods=GET', 'colour=red', ...admin])).toMatchObject({ code: 2, stderr: 'dgate: unknown field "colour" for route (fields: name, namespace, paths, methods, service, modules, stripPath, preserveHost, tags)\n' })
    expect(await dgate(cli, ['route', 'create', 'name=r', 'name=s', ...admin])).toMatchObject({ code: 2, stderr: 'dgate: name is given twice\n' })
    expect(await dgate(cli, ['route', 'create', 'oops', ...admin])).toMatchObject({ code: 2, stderr: 'dgate: "oops" is not key=value, key:=json or key@=file\n' })
    expect(await dgate(cli, ['route', 'create', 'name=r', 'paths:=[', 'methods=GET', ...admin])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^dgate: paths:= must be followed by JSON: /) })
    expect(await dgate(cli, ['service', 'create', 'name=s', 'urls=http://a', 'retries=many', ...admin])).toMatchObject({ code: 2, stderr: 'dgate: retries must be a number, not "many"\n' })
    expect(await dgate(cli, ['module', 'create', 'name=m', 'payload=@/nonexistent.ts', ...admin])).toMatchObject({ code: 2, stderr: 'dgate: payload: cannot read /nonexistent.ts: ENOENT\n' })
    expect(await dgate(cli, ['widget', 'ls', ...admin])).toMatchObject({ code: 2, stderr: 'dgate: unknown command "widget" (see dgate --help)\n' })
    expect(await dgate(cli, ['route', 'frob', ...admin])).toMatchObject({ code: 2, stderr: 'dgate: unknown route command "frob" (create|mk, get, list|ls, delete|rm)\n' })
    expect(await dgate(cli, ['route', 'ls', '--bogus'])).toMatchObject({ code: 2, stderr: expect.stringContaining("Unknown option '--bogus'") })
    expect(f.gw.snapshot.version).toBe(version)
  })

  it('exits 3 when the admin API cannot be reached', async () => {
    const port = await freePort()
    const ran = await dgate(cli, ['route', 'ls', '--admin', `http://127.0.0.1:${port}`])
    expect(ran.code).toBe(3)
    expect(ran.stderr).toMatch(/^dgate: cannot reach the admin API: .*ECONNREFUSED/)
  })

  it('--help on every command lists required and optional fields from the schemas', async () => {
    const route = await dgate(cli, ['route', 'create', '--help'])
    expect(route.code).toBe(0)
    expect(route.stdout).toMatch(/Required fields:\n {2}name +string\n {2}paths +list: a,b,c or :=\["a","b"\]\n {2}methods +list/)
    expect(route.stdout).toMatch(/Optional fields:\n {2}namespace +string\n {2}service +string\n {2}modules +list.*\n {2}stripPath +boolean\n {2}preserveHost +boolean\n {2}tags +list/)
    const mod = await dgate(cli, ['mod', 'mk', '--help'])
    expect(mod.stdout).toMatch(/ {2}moduleType +"typescript" \| "javascript"/)
    const svc = await dgate(cli, ['svc', 'create', '--help'])
    expect(svc.stdout).toMatch(/ {2}requestTimeout +duration: 5s, 250ms or milliseconds/)
    const doc = await dgate(cli, ['doc', 'ls', '--help'])
    expect(doc.stdout).toMatch(/Required fields:\n {2}collection +string\nOptional fields:\n {2}namespace +string\n {2}limit +integer\n {2}offset +integer/)
    const commands = [
      ...['namespace', 'domain', 'collection', 'secret'].map((kind) => [kind, 'create']),
      ...['get', 'list', 'delete'].flatMap((verb) => [['namespace', verb], ['secret', verb]]),
    ]
    for (const [kind, verb] of commands) {
      const ran = await dgate(cli, [kind!, verb!, '--help'])
      expect(ran.code, `${kind} ${verb}`).toBe(0)
      expect(ran.stdout).toContain(`Usage: dgate ${kind} ${verb}`)
    }
    const top = await dgate(cli, ['--help'])
    expect(top.stdout).toContain('dgate apply -f <file>')
    expect(await dgate(cli, [])).toMatchObject({ code: 2 })
  }, 60_000)
})
