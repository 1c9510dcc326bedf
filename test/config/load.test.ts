import { describe, expect, it } from 'vitest'
import { ConfigError, createGateway, loadConfig } from '../../src/index.js'
import { tempFiles } from '../helpers/files.js'
import { substitute } from '../../src/config/substitute.js'

const { file, path: pathOf } = tempFiles('dgate-config-')

describe('variable substitution', () => {
  const env = { HOST: 'db.local', EMPTY: '', PORT: '5432' }

  it.each([
    ['${HOST}', 'db.local'],
    ['${HOST:-fallback}', 'db.local'],
    ['${MISSING:-fallback}', 'fallback'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${MISSING:-}', ''],
    ['${MISSING}', ''],
    ['http://${HOST}:${PORT}/x', 'http://db.local:5432/x'],
    ['$HOST', '$HOST'],
    ['${HOST:default}', '${HOST:default}'],
    ['$(echo pwned)', '$(echo pwned)'],
  ])('%s becomes %j', (input, output) => {
    expect(substitute(input, env)).toBe(output)
  })

  it('reaches into lists and objects but never keys', () => {
    expect(substitute({ '${HOST}': ['${HOST}', 1, true, null, { a: '${PORT}' }] }, env)).toEqual({ '${HOST}': ['db.local', 1, true, null, { a: '5432' }] })
  })
})

describe('loadConfig', () => {
  it('reads YAML with DGate keys into gateway options and runs no shell', async () => {
    file('auth.ts', 'export const requestModifier = (ctx: any) => {}\n')
    const path = file(
      'dgate.yaml',
      `version: v1
storage:
  type: file
  dir: ./data
proxy:
  port: 80
  init_resources:
    namespaces:
      - name: team
    services:
      - name: users
        namespace: team
        urls: ["http://\${UPSTREAM_HOST:-127.0.0.1}:\${UPSTREAM_PORT}"]
    modules:
      - name: auth
        namespace: team
        payload_file: auth.ts
    routes:
      - name: users
        namespace: team
        paths: ["/users/*"]
        methods: ["*"]
        service: users
        modules: [auth]
    secrets:
      - name: cmd
        namespace: team
        data: "$(touch ${pathOf('pwned')})"
`,
    )
    const config = await loadConfig(path, { env: { UPSTREAM_PORT: '3001' } })
    expect(config.options.storage).toEqual({ dir: pathOf('data') })
    expect(config.options.resources?.services?.[0]?.urls).toEqual(['http://127.0.0.1:3001'])
    expect(config.options.resources?.modules?.[0]?.payload).toBe('export const requestModifier = (ctx: any) => {}\n')
    expect(config.options.resources?.secrets?.[0]?.data).toMatch(/^\$\(touch /)

    const gw = await createGateway(config.options)
    expect(gw.snapshot.get('route', 'team', 'users')?.modules).toEqual(['auth'])
    await gw.close()
    const { existsSync } = await import('node:fs')
    expect(existsSync(pathOf('pwned'))).toBe(false)
  })

  it('reads JSON and a top-level init_resources', async () => {
    const path = file('c.json', JSON.stringify({ storage: { type: 'memory' }, disable_default_namespace: true, init_resources: { namespaces: [{ name: 'n' }] } }))
    const config = await loadConfig(path, { env: {} })
    expect(config.options).toEqual({ storage: 'memory', disableDefaultNamespace: true, resources: { namespaces: [{ name: 'n' }] } })
  })

  it.each([
    ['bad.toml', 'x = 1', /bad\.toml: unknown config format "\.toml": use \.yaml, \.yml or \.json$/],
    ['bad.yaml', 'a: [1', /bad\.yaml: not valid YAML: /],
    ['bad.json', '{', /bad\.json: not valid JSON: /],
    ['s.yaml', 'storage: { type: disk }', /s\.yaml: storage\.type must be one of memory, file, not "disk"$/],
    ['s.yaml', 'storage: { type: file }', /s\.yaml: storage\.dir is required when storage\.type is "file"$/],
    ['s.yaml', 'storage: { type: memory, size: 1 }', /s\.yaml: storage\.size is not a known key$/],
    ['d.yaml', 'disable_default_namespace: "yes"', /d\.yaml: disable_default_namespace must be true or false, not "yes"$/],
    ['r.yaml', 'init_resources: { widgets: [] }', /r\.yaml: init_resources\.widgets is not a resource list/],
    ['r.yaml', 'init_resources: { routes: { name: x } }', /r\.yaml: init_resources\.routes must be a list$/],
    ['r.yaml', 'init_resources:\n  routes:\n    - { name: r, paths: [x], methods: [GET] }', /r\.yaml: init_resources\.routes\[0\]: route "r": paths\[0\] must start with "\/"$/],
    ['m.yaml', 'init_resources:\n  modules:\n    - { name: m, payload_file: missing.ts }', /m\.yaml: init_resources\.modules\[0\]\.payload_file: cannot read missing\.ts: ENOENT$/],
    ['m.yaml', 'init_resources:\n  modules:\n    - { name: m, payload: x, payload_file: a.ts }', /m\.yaml: init_resources\.modules\[0\]: set payload or payload_file, not both$/],
  ])('refuses %s (%s) naming the key', async (name, text, message) => {
    const error = await loadConfig(file(name, text), { env: {} }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as Error).message).toMatch(message)
  })

  it('says when the file cannot be read', async () => {
    await expect(loadConfig(pathOf('none.yaml'))).rejects.toThrow(/none\.yaml: cannot read config file: ENOENT/)
  })
})
