import { describe, expect, it } from 'vitest'
import { compileRouter } from '../../src/routing/path-router.js'
import type { RouteMatch } from '../../src/routing/path-router.js'

/** A router whose values are the patterns themselves, every route answering every method. */
function routerOf(...patterns: string[]) {
  return compileRouter(patterns.map((pattern) => ({ pattern, methods: ['*'], value: pattern })))
}

/** The pattern that serves GET `path`, or undefined. */
function winner(router: ReturnType<typeof routerOf>, path: string): string | undefined {
  const m = router.match('GET', path)
  return m.kind === 'found' ? m.value : undefined
}

function paramsOf(m: RouteMatch<unknown>): Record<string, string> | undefined {
  return m.kind === 'found' ? m.params : undefined
}

describe('PathRouter matching', () => {
  it('matches literal paths exactly', () => {
    const r = routerOf('/', '/users', '/users/list')
    expect(winner(r, '/')).toBe('/')
    expect(winner(r, '/users')).toBe('/users')
    expect(winner(r, '/users/list')).toBe('/users/list')
    expect(winner(r, '/user')).toBeUndefined()
    expect(winner(r, '/users/lis')).toBeUndefined()
    expect(winner(r, '/users/list/more')).toBeUndefined()
  })

  it('treats the trailing slash as significant', () => {
    const r = routerOf('/a', '/b/')
    expect(winner(r, '/a')).toBe('/a')
    expect(winner(r, '/a/')).toBeUndefined()
    expect(winner(r, '/b/')).toBe('/b/')
    expect(winner(r, '/b')).toBeUndefined()
  })

  it('does not clean paths: empty segments must be in the pattern', () => {
    const r = routerOf('/a/b', '/c//d')
    expect(winner(r, '/a//b')).toBeUndefined()
    expect(winner(r, '/c//d')).toBe('/c//d')
    expect(winner(r, '/c/d')).toBeUndefined()
  })

  it('is case-sensitive', () => {
    expect(winner(routerOf('/Users'), '/users')).toBeUndefined()
  })

  it('returns not-found for a path that does not start with "/"', () => {
    const r = routerOf('/*')
    expect(r.match('GET', '')).toEqual({ kind: 'not-found' })
    expect(r.match('GET', 'a/b')).toEqual({ kind: 'not-found' })
    expect(r.match('GET', '*')).toEqual({ kind: 'not-found' })
    expect(r.match('GET', 'http://x/a')).toEqual({ kind: 'not-found' })
  })

  it('finds nothing in an empty router', () => {
    expect(compileRouter([]).match('GET', '/')).toEqual({ kind: 'not-found' })
  })

  it('reports the matched pattern and value', () => {
    const r = compileRouter([{ pattern: '/u/{id}', methods: ['GET'], value: { route: 'users' } }])
    expect(r.match('GET', '/u/7')).toEqual({
      kind: 'found',
      value: { route: 'users' },
      pattern: '/u/{id}',
      params: { id: '7' },
      restStart: 4,
    })
  })

  describe('parameters', () => {
    it('"{id}" captures one non-empty segment', () => {
      const r = routerOf('/users/{id}', '/users/{id}/posts')
      expect(paramsOf(r.match('GET', '/users/42'))).toEqual({ id: '42' })
      expect(winner(r, '/users/42/posts')).toBe('/users/{id}/posts')
      expect(winner(r, '/users/')).toBeUndefined()
      expect(winner(r, '/users//posts')).toBeUndefined()
      expect(winner(r, '/users/4/2')).toBeUndefined()
    })

    it('a regex parameter must match the whole segment', () => {
      const r = routerOf('/n/{id:[0-9]+}')
      expect(paramsOf(r.match('GET', '/n/123'))).toEqual({ id: '123' })
      expect(winner(r, '/n/12a')).toBeUndefined()
      expect(winner(r, '/n/a12')).toBeUndefined()
    })

    it('a regex parameter with quantifier braces', () => {
      const r = routerOf('/zip/{code:[0-9]{5}}', '/d/{date:[0-9]{4}-[0-9]{2}-[0-9]{2}}')
      expect(paramsOf(r.match('GET', '/zip/12345'))).toEqual({ code: '12345' })
      expect(winner(r, '/zip/1234')).toBeUndefined()
      expect(winner(r, '/zip/123456')).toBeUndefined()
      expect(paramsOf(r.match('GET', '/d/2024-06-01'))).toEqual({ date: '2024-06-01' })
      expect(winner(r, '/d/2024-6-01')).toBeUndefined()
    })

    it('a regex parameter never spans a "/", even when the regex would allow it', () => {
      const r = routerOf('/x/{rest:.+}')
      expect(paramsOf(r.match('GET', '/x/a.b'))).toEqual({ rest: 'a.b' })
      expect(winner(r, '/x/a/b')).toBeUndefined()
    })

    it('several parameters in one segment split at the literal text between them', () => {
      const r = routerOf('/{a}-{b}', '/files/{name}.{ext}', '/v{major:[0-9]+}.{minor:[0-9]+}/x')
      expect(paramsOf(r.match('GET', '/x-y'))).toEqual({ a: 'x', b: 'y' })
      expect(paramsOf(r.match('GET', '/x-y-z'))).toEqual({ a: 'x', b: 'y-z' })
      expect(paramsOf(r.match('GET', '/files/archive.tar.gz'))).toEqual({ name: 'archive', ext: 'tar.gz' })
      expect(paramsOf(r.match('GET', '/v2.10/x'))).toEqual({ major: '2', minor: '10' })
      expect(winner(r, '/-y')).toBeUndefined()
      expect(winner(r, '/x-')).toBeUndefined()
      expect(winner(r, '/files/noext')).toBeUndefined()
      expect(winner(r, '/va.1/x')).toBeUndefined()
    })

    it('a literal that ends the segment is a suffix; one in the middle stops at its first occurrence', () => {
      const r = routerOf('/{name}.json', '/{major:[0-9]+}.{minor:[0-9]+}.x', '/{a}.{b}.txt')
      expect(paramsOf(r.match('GET', '/a.json.json'))).toEqual({ name: 'a.json' })
      expect(paramsOf(r.match('GET', '/a.b.json'))).toEqual({ name: 'a.b' })
      expect(paramsOf(r.match('GET', '/1.2.x'))).toEqual({ major: '1', minor: '2' })
      expect(paramsOf(r.match('GET', '/a.b.c.txt'))).toEqual({ a: 'a', b: 'b.c' })
      expect(winner(r, '/.json')).toBeUndefined()
    })

    it('does not try other splits when a regex refuses the first one', () => {
      const r = routerOf('/{a:[0-9]+}-{b}')
      expect(paramsOf(r.match('GET', '/1-x-2'))).toEqual({ a: '1', b: 'x-2' })
      expect(winner(r, '/x-1-2')).toBeUndefined()
    })

    it('stays linear on a long segment that almost matches many splits', () => {
      const r = routerOf('/{a}-{b}-{c}-{d:[0-9]+}')
      const path = '/' + 'a-'.repeat(4000) + 'x'
      const started = performance.now()
      expect(r.match('GET', path)).toEqual({ kind: 'not-found' })
      expect(performance.now() - started).toBeLessThan(500)
    })

    it('a regex parameter followed by literal text must accept the value before it', () => {
      const r = routerOf('/{id:[a-z.]+}-{n}')
      expect(paramsOf(r.match('GET', '/a.b-c-1'))).toEqual({ id: 'a.b', n: 'c-1' })
      expect(winner(r, '/a1-2')).toBeUndefined()
    })

    it('literal text around parameters inside a segment', () => {
      const r = routerOf('/img/w{w:[0-9]+}h{h:[0-9]+}.png')
      expect(paramsOf(r.match('GET', '/img/w10h20.png'))).toEqual({ w: '10', h: '20' })
      expect(winner(r, '/img/w10h20.jpg')).toBeUndefined()
      expect(winner(r, '/img/x10h20.png')).toBeUndefined()
    })

    it('the same position can hold different names for different methods', () => {
      const r = compileRouter([
        { pattern: '/u/{id}', methods: ['GET'], value: 'get' },
        { pattern: '/u/{uid}', methods: ['POST'], value: 'post' },
      ])
      expect(paramsOf(r.match('GET', '/u/1'))).toEqual({ id: '1' })
      expect(paramsOf(r.match('POST', '/u/1'))).toEqual({ uid: '1' })
    })

    it('param names that shadow Object.prototype members are plain own properties', () => {
      const r = routerOf('/{constructor}/{toString}')
      const params = paramsOf(r.match('GET', '/a/b'))
      expect(params).toEqual({ constructor: 'a', toString: 'b' })
      expect(Object.keys(params ?? {})).toEqual(['constructor', 'toString'])
    })
  })

  describe('catch-all', () => {
    it('captures the rest of the path under "*", the empty rest included', () => {
      const r = routerOf('/api/*')
      expect(paramsOf(r.match('GET', '/api/x/y/z'))).toEqual({ '*': 'x/y/z' })
      expect(paramsOf(r.match('GET', '/api/'))).toEqual({ '*': '' })
      expect(paramsOf(r.match('GET', '/api//x/'))).toEqual({ '*': '/x/' })
      expect(winner(r, '/api')).toBeUndefined()
      expect(winner(r, '/apix')).toBeUndefined()
    })

    it('"/*" matches every path', () => {
      const r = routerOf('/*')
      expect(paramsOf(r.match('GET', '/'))).toEqual({ '*': '' })
      expect(paramsOf(r.match('GET', '/a/b'))).toEqual({ '*': 'a/b' })
    })

    it('comes after parameters in the same pattern', () => {
      expect(paramsOf(routerOf('/t/{tenant}/*').match('GET', '/t/acme/a/b'))).toEqual({ tenant: 'acme', '*': 'a/b' })
    })

    it('reports where the raw remainder starts, for stripPath', () => {
      const r = routerOf('/t/{tenant}/*', '/plain/{x}')
      const m = r.match('GET', '/t/ac%20me/a%2Fb/c')
      expect(m.kind === 'found' && m.restStart).toBe(11)
      expect('/t/ac%20me/a%2Fb/c'.slice(11)).toBe('a%2Fb/c')
      const plain = r.match('GET', '/plain/1')
      expect(plain.kind === 'found' && plain.restStart).toBe('/plain/1'.length)
    })
  })

  describe('percent-encoding', () => {
    it('matches the raw path: "%2F" is not a separator', () => {
      const r = routerOf('/a/{x}', '/a/{x}/{y}')
      expect(winner(r, '/a/b%2Fc')).toBe('/a/{x}')
      expect(paramsOf(r.match('GET', '/a/b%2Fc'))).toEqual({ x: 'b/c' })
    })

    it('decodes parameter values, catch-all included', () => {
      const r = routerOf('/u/{name}', '/s/*', '/f/{a}.{b}')
      expect(paramsOf(r.match('GET', '/u/J%C3%BCrgen%20M'))).toEqual({ name: 'Jürgen M' })
      expect(paramsOf(r.match('GET', '/s/a%20b/c%2Fd'))).toEqual({ '*': 'a b/c/d' })
      expect(paramsOf(r.match('GET', '/f/x%2Ey.z'))).toEqual({ a: 'x.y', b: 'z' })
    })

    it('does not turn "+" into a space', () => {
      expect(paramsOf(routerOf('/q/{v}').match('GET', '/q/a+b'))).toEqual({ v: 'a+b' })
    })

    it('keeps a value with a malformed escape as received', () => {
      expect(paramsOf(routerOf('/q/{v}').match('GET', '/q/100%'))).toEqual({ v: '100%' })
      expect(paramsOf(routerOf('/q/{v}').match('GET', '/q/%E2%82'))).toEqual({ v: '%E2%82' })
    })

    it('does not decode literal segments before comparing', () => {
      const r = routerOf('/a b', '/plain')
      expect(winner(r, '/a%20b')).toBe('/a b')
      expect(winner(r, '/a b')).toBeUndefined()
      expect(winner(r, '/pl%61in')).toBeUndefined()
    })

    it('matches regex parameters against the raw value', () => {
      const r = routerOf('/r/{v:[a-z]+}')
      expect(winner(r, '/r/%61')).toBeUndefined()
      expect(winner(r, '/r/a')).toBe('/r/{v:[a-z]+}')
    })
  })
})
