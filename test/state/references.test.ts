import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConflictError, createGateway, NotFoundError, ValidationError, type Gateway } from '../../src/index.js'

let gw: Gateway
beforeEach(async () => {
  gw = await createGateway()
})
afterEach(async () => {
  await gw.close()
})

/** The promise must reject with `type` and `message`, and the state must be exactly as before. */
async function refusedWith(type: new (...args: never[]) => Error, message: string, write: () => Promise<unknown>): Promise<void> {
  const before = gw.snapshot
  await expect(write()).rejects.toThrow(message)
  await write().catch((e: unknown) => expect(e).toBeInstanceOf(type))
  expect(gw.snapshot).toBe(before)
}

describe('the namespace must exist', () => {
  it.each([
    ['service', () => gw.services.put({ name: 's', namespace: 'nope', urls: ['http://a'] })],
    ['module', () => gw.modules.put({ name: 'm', namespace: 'nope', payload: 'x' })],
    ['domain', () => gw.domains.put({ name: 'd', namespace: 'nope', patterns: ['*'] })],
    ['collection', () => gw.collections.put({ name: 'c', namespace: 'nope' })],
    ['secret', () => gw.secrets.put({ name: 'k', namespace: 'nope', data: 'x' })],
    ['route', () => gw.routes.put({ name: 'r', namespace: 'nope', paths: ['/'], methods: ['*'] })],
  ])('for a %s', async (kind, write) => {
    const name = { service: 's', module: 'm', domain: 'd', collection: 'c', secret: 'k', route: 'r' }[kind]
    await refusedWith(ValidationError, `${kind} "${name}": namespace "nope" does not exist`, write)
  })

  it('for a document', async () => {
    await refusedWith(ValidationError, 'document "x": namespace "nope" does not exist', () => gw.documents.put({ namespace: 'nope', collection: 'c', id: 'x', data: 1 }))
  })
})

describe("a route's references", () => {
  beforeEach(async () => {
    await gw.namespaces.put({ name: 'other' })
    await gw.services.put({ name: 'there', namespace: 'other', urls: ['http://a'] })
    await gw.modules.put({ name: 'mod', namespace: 'other', payload: 'x' })
  })

  it('must name a service of its own namespace', async () => {
    await refusedWith(ValidationError, 'route "r": service "there" does not exist in namespace "default"', () =>
      gw.routes.put({ name: 'r', paths: ['/'], methods: ['*'], service: 'there' }),
    )
  })

  it('must name modules of its own namespace', async () => {
    await gw.modules.put({ name: 'ok', payload: 'x' })
    await refusedWith(ValidationError, 'route "r": modules[1] "mod" does not exist in namespace "default"', () =>
      gw.routes.put({ name: 'r', paths: ['/'], methods: ['*'], modules: ['ok', 'mod'] }),
    )
  })

  it('may have neither service nor modules, and may drop them when replaced', async () => {
    await gw.routes.put({ name: 'r', namespace: 'other', paths: ['/'], methods: ['*'], service: 'there', modules: ['mod'] })
    await gw.routes.put({ name: 'r', namespace: 'other', paths: ['/'], methods: ['*'] })
    // DGate kept stale links here; the replaced route no longer holds the service or module.
    await gw.services.delete('there', { namespace: 'other' })
    await gw.modules.delete('mod', { namespace: 'other' })
    expect(await gw.services.list({ namespace: 'other' })).toEqual([])
  })
})

describe('duplicate routes', () => {
  beforeEach(async () => {
    await gw.routes.put({ name: 'a', paths: ['/users/{id}', '/x'], methods: ['GET', 'POST'] })
  })

  it('refuses the same method and path in one namespace, even with other param names', async () => {
    await refusedWith(ConflictError, 'route "b": GET /users/{uid} is already served by route "a" in namespace "default"', () =>
      gw.routes.put({ name: 'b', paths: ['/users/{uid}'], methods: ['GET'] }),
    )
    await refusedWith(ConflictError, 'route "b": GET /x is already served by route "a" in namespace "default"', () => gw.routes.put({ name: 'b', paths: ['/x'], methods: ['*'] }))
  })

  it('allows other methods, other paths, other namespaces and replacing the route itself', async () => {
    await gw.routes.put({ name: 'b', paths: ['/users/{id}'], methods: ['DELETE'] })
    await gw.routes.put({ name: 'c', paths: ['/users/{id:[0-9]+}'], methods: ['GET'] })
    await gw.routes.put({ name: 'd', paths: ['/users/{id}/'], methods: ['GET'] })
    await gw.namespaces.put({ name: 'n2' })
    await gw.routes.put({ name: 'a', namespace: 'n2', paths: ['/users/{id}'], methods: ['GET'] })
    await gw.routes.put({ name: 'a', paths: ['/users/{id}'], methods: ['GET', 'PUT'] })
    expect((await gw.routes.list()).map((r) => r.name)).toEqual(['a', 'b', 'c', 'd'])
  })
})

describe('deleting what is still used', () => {
  beforeEach(async () => {
    await gw.services.put({ name: 's', urls: ['http://a'] })
    await gw.modules.put({ name: 'm', payload: 'x' })
    await gw.routes.put({ name: 'r1', paths: ['/1'], methods: ['*'], service: 's', modules: ['m'] })
    await gw.routes.put({ name: 'r2', paths: ['/2'], methods: ['*'], service: 's', modules: ['m'] })
  })

  it('refuses a service used by routes, naming them (DGate panicked with two)', async () => {
    await refusedWith(ConflictError, 'cannot delete service "s": still used by route "r1", route "r2"', () => gw.services.delete('s'))
  })

  it('refuses a module used by routes', async () => {
    await refusedWith(ConflictError, 'cannot delete module "m": still used by route "r1", route "r2"', () => gw.modules.delete('m'))
  })

  it('refuses a collection that holds documents', async () => {
    await gw.collections.put({ name: 'c' })
    await gw.documents.put({ collection: 'c', id: 'd1', data: {} })
    await refusedWith(ConflictError, 'cannot delete collection "c": still used by 1 document', () => gw.collections.delete('c'))
    await gw.documents.delete('c', 'd1')
    await gw.collections.delete('c')
    expect(await gw.collections.get('c')).toBeUndefined()
  })

  it('refuses a namespace with anything in it, secrets included, and summarizes long lists', async () => {
    await gw.namespaces.put({ name: 'n' })
    await gw.secrets.put({ name: 'k', namespace: 'n', data: 'x' })
    await refusedWith(ConflictError, 'cannot delete namespace "n": still used by secret "k"', () => gw.namespaces.delete('n'))
    await gw.collections.put({ name: 'c' })
    await refusedWith(ConflictError, 'cannot delete namespace "default": still used by service "s", module "m", route "r1", route "r2", collection "c"', () => gw.namespaces.delete('default'))
    await gw.domains.put({ name: 'd', patterns: ['*'] })
    await refusedWith(ConflictError, 'cannot delete namespace "default": still used by domain "d", service "s", module "m", route "r1", route "r2" and 1 more', () => gw.namespaces.delete('default'))
  })

  it('allows the delete once nothing uses it, including the default namespace', async () => {
    await gw.routes.delete('r1')
    await gw.routes.delete('r2')
    await gw.services.delete('s')
    await gw.modules.delete('m')
    await gw.namespaces.delete('default')
    expect(await gw.namespaces.list()).toEqual([])
  })
})

describe('deleting what does not exist', () => {
  it.each([
    ['namespace', () => gw.namespaces.delete('x'), 'namespace "x" not found'],
    ['service', () => gw.services.delete('x'), 'service "x" not found in namespace "default"'],
    ['route', () => gw.routes.delete('x'), 'route "x" not found in namespace "default"'],
    ['secret in a missing namespace', () => gw.secrets.delete('x', { namespace: 'zz' }), 'secret "x" not found: namespace "zz" does not exist'],
    ['document', () => gw.documents.delete('c', 'x'), 'document "x" not found in collection "c" of namespace "default"'],
  ])('refuses a %s with NotFoundError', async (_what, write, message) => {
    await refusedWith(NotFoundError, message, write)
  })
})
