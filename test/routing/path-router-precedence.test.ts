import { describe, expect, it } from 'vitest'
import { compileRouter } from '../../src/routing/path-router.js'

function routerOf(...patterns: string[]) {
  return compileRouter(patterns.map((pattern) => ({ pattern, methods: ['*'], value: pattern })))
}

function winner(patterns: string[], path: string): string | undefined {
  const m = routerOf(...patterns).match('GET', path)
  return m.kind === 'found' ? m.value : undefined
}

/** Checks the winner with the patterns registered in both orders. */
function expectWinner(patterns: string[], path: string, expected: string | undefined): void {
  expect(winner(patterns, path), `${path} with ${patterns.join(' ')}`).toBe(expected)
  expect(winner([...patterns].reverse(), path), `${path} with ${[...patterns].reverse().join(' ')}`).toBe(expected)
}

describe('PathRouter precedence', () => {
  const users = ['/users/me', '/users/{id:[0-9]+}', '/users/{name}', '/users/*']

  it('static beats regex param beats param beats catch-all', () => {
    expectWinner(users, '/users/me', '/users/me')
    expectWinner(users, '/users/42', '/users/{id:[0-9]+}')
    expectWinner(users, '/users/bob', '/users/{name}')
    expectWinner(users, '/users/bob/x', '/users/*')
    expectWinner(users, '/users/', '/users/*')
  })

  it('a literal prefix inside a segment beats a parameter', () => {
    expectWinner(['/f/{name}', '/f/readme.{ext}'], '/f/readme.md', '/f/readme.{ext}')
    expectWinner(['/f/{name}', '/f/readme.{ext}'], '/f/other.md', '/f/{name}')
  })

  it('a parameter followed by literal text beats a lone parameter', () => {
    expectWinner(['/f/{name}', '/f/{name}.json'], '/f/a.json', '/f/{name}.json')
    expectWinner(['/f/{name}', '/f/{name}.json'], '/f/a.xml', '/f/{name}')
  })

  it('a regex parameter beats a plain one at the same place inside a segment', () => {
    expectWinner(['/v/{a}.{b}', '/v/{n:[0-9]+}.{b}'], '/v/1.x', '/v/{n:[0-9]+}.{b}')
    expectWinner(['/v/{a}.{b}', '/v/{n:[0-9]+}.{b}'], '/v/a.x', '/v/{a}.{b}')
  })

  it('orders different regexes at the same place by their source, not registration order', () => {
    expectWinner(['/r/{a:[a-z0-9]+}', '/r/{b:[0-9]+}'], '/r/12', '/r/{b:[0-9]+}')
    expectWinner(['/r/{a:[a-z0-9]+}', '/r/{b:[0-9]+}'], '/r/ab', '/r/{a:[a-z0-9]+}')
  })

  it('decides segment by segment: a static first segment wins even if a deeper one is dynamic', () => {
    expectWinner(['/{a}/b', '/a/{b}'], '/a/b', '/a/{b}')
  })

  describe('backtracking', () => {
    it('/a/{x}/c and /a/b/{y} both work', () => {
      const patterns = ['/a/{x}/c', '/a/b/{y}']
      expectWinner(patterns, '/a/b/c', '/a/b/{y}')
      expectWinner(patterns, '/a/b/d', '/a/b/{y}')
      expectWinner(patterns, '/a/z/c', '/a/{x}/c')
      expectWinner(patterns, '/a/z/d', undefined)
    })

    it('leaves a static branch that dead-ends deeper for a parameter', () => {
      expectWinner(['/a/b/c', '/a/{x}/d'], '/a/b/d', '/a/{x}/d')
      const r = routerOf('/a/b/c', '/a/{x}/d')
      const m = r.match('GET', '/a/b/d')
      expect(m.kind === 'found' && m.params).toEqual({ x: 'b' })
    })

    it('leaves a regex branch for a plain parameter, then for the catch-all', () => {
      const patterns = ['/p/{id:[0-9]+}/view', '/p/{slug}/edit', '/p/*']
      expectWinner(patterns, '/p/1/view', '/p/{id:[0-9]+}/view')
      expectWinner(patterns, '/p/1/edit', '/p/{slug}/edit')
      expectWinner(patterns, '/p/1/delete', '/p/*')
      const m = routerOf(...patterns).match('GET', '/p/1/delete')
      expect(m.kind === 'found' && m.params).toEqual({ '*': '1/delete' })
    })

    it('drops the values captured on an abandoned branch', () => {
      const r = routerOf('/{a}/{b}/x', '/{c}/y/z')
      const m = r.match('GET', '/1/y/z')
      expect(m.kind === 'found' && m.params).toEqual({ c: '1' })
    })

    it('a catch-all higher up catches what deeper routes do not', () => {
      expectWinner(['/*', '/api/v1/{x}'], '/api/v1/a/b', '/*')
      expectWinner(['/*', '/api/v1/{x}'], '/api/v1/a', '/api/v1/{x}')
    })

    it('a node that matched the path but has no route there is not a match', () => {
      expectWinner(['/a/b/c', '/a/{x}'], '/a/b', '/a/{x}')
    })
  })

  it('keeps working with many static siblings (map lookup)', () => {
    const patterns = Array.from({ length: 40 }, (_, i) => `/s${i}/x`)
    patterns.push('/{p}/y')
    expectWinner(patterns, '/s17/x', '/s17/x')
    expectWinner(patterns, '/s17/y', '/{p}/y')
    expectWinner(patterns, '/s99/x', undefined)
  })
})
