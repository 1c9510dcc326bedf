import { describe, expect, it } from 'vitest'
import { PatternError, RouteConflictError } from '../../src/routing/errors.js'
import { STANDARD_METHODS, sortMethods } from '../../src/routing/methods.js'
import { compileRouter } from '../../src/routing/path-router.js'
import type { RouteRegistration } from '../../src/routing/path-router.js'

function route(pattern: string, methods: string[], value = `${methods.join(',')} ${pattern}`): RouteRegistration<string> {
  return { pattern, methods, value }
}

function conflictOf(routes: RouteRegistration<string>[]): RouteConflictError {
  try {
    compileRouter(routes)
  } catch (err) {
    expect(err).toBeInstanceOf(RouteConflictError)
    expect(err).toBeInstanceOf(PatternError)
    return err as RouteConflictError
  }
  throw new Error('expected a conflict')
}

function reasonOf(routes: RouteRegistration<string>[]): string {
  try {
    compileRouter(routes)
  } catch (err) {
    expect(err).toBeInstanceOf(PatternError)
    return (err as PatternError).reason
  }
  throw new Error('expected an error')
}

describe('PathRouter methods', () => {
  it('serves each method with its own route on the same path', () => {
    const r = compileRouter([route('/items', ['GET'], 'list'), route('/items', ['POST'], 'create')])
    expect(r.match('GET', '/items')).toMatchObject({ kind: 'found', value: 'list' })
    expect(r.match('POST', '/items')).toMatchObject({ kind: 'found', value: 'create' })
  })

  it('"*" serves the nine standard methods and no others', () => {
    const r = compileRouter([route('/any', ['*'])])
    for (const m of STANDARD_METHODS) expect(r.match(m, '/any').kind, m).toBe('found')
    expect(r.match('PROPFIND', '/any')).toEqual({ kind: 'method-not-allowed', allow: [...STANDARD_METHODS] })
  })

  it('answers 404 when no path matches, whatever the method', () => {
    const r = compileRouter([route('/items', ['GET'])])
    expect(r.match('GET', '/other')).toEqual({ kind: 'not-found' })
    expect(r.match('DELETE', '/other')).toEqual({ kind: 'not-found' })
  })

  it('answers 405 with Allow when the path matches but the method does not', () => {
    const r = compileRouter([route('/items', ['POST', 'PUT']), route('/items', ['DELETE'])])
    expect(r.match('PATCH', '/items')).toEqual({ kind: 'method-not-allowed', allow: ['POST', 'PUT', 'DELETE'] })
  })

  it('lists HEAD in Allow when GET is allowed', () => {
    const r = compileRouter([route('/items', ['GET', 'POST'])])
    expect(r.match('DELETE', '/items')).toEqual({ kind: 'method-not-allowed', allow: ['GET', 'HEAD', 'POST'] })
  })

  it('orders Allow by the standard order, then unknown methods alphabetically', () => {
    const r = compileRouter([route('/x', ['TRACE', 'PURGE', 'OPTIONS', 'GET', 'LINK'])])
    expect(r.match('POST', '/x')).toEqual({
      kind: 'method-not-allowed',
      allow: ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'LINK', 'PURGE'],
    })
    expect(sortMethods(['b', 'DELETE', 'a', 'GET'])).toEqual(['GET', 'DELETE', 'a', 'b'])
  })

  it('unites the Allow lists of every pattern that matched the path', () => {
    const r = compileRouter([route('/u/me', ['GET']), route('/u/{id}', ['PUT']), route('/u/*', ['DELETE'])])
    expect(r.match('POST', '/u/me')).toEqual({ kind: 'method-not-allowed', allow: ['GET', 'HEAD', 'PUT', 'DELETE'] })
    expect(r.match('POST', '/u/7')).toEqual({ kind: 'method-not-allowed', allow: ['PUT', 'DELETE'] })
  })

  it('searches past a path match with the wrong method for a route with the right one', () => {
    const r = compileRouter([route('/u/me', ['GET'], 'me'), route('/u/{id}', ['DELETE'], 'delete-user'), route('/u/*', ['POST'], 'rest')])
    expect(r.match('GET', '/u/me')).toMatchObject({ value: 'me' })
    expect(r.match('DELETE', '/u/me')).toMatchObject({ value: 'delete-user', params: { id: 'me' } })
    expect(r.match('POST', '/u/me')).toMatchObject({ value: 'rest', params: { '*': 'me' } })
  })

  it('carries nothing from one match to the next', () => {
    const r = compileRouter([route('/a/{x}/*', ['GET'], 'a'), route('/b/{y}', ['POST'], 'b')])
    expect(r.match('GET', '/b/1')).toEqual({ kind: 'method-not-allowed', allow: ['POST'] })
    expect(r.match('GET', '/c')).toEqual({ kind: 'not-found' })
    expect(r.match('GET', '/a/1/r/s')).toMatchObject({ params: { x: '1', '*': 'r/s' }, restStart: 5 })
    expect(r.match('POST', '/b/2')).toEqual({ kind: 'found', value: 'b', pattern: '/b/{y}', params: { y: '2' }, restStart: 4 })
    const first = r.match('POST', '/b/3')
    const second = r.match('POST', '/b/4')
    expect(first.kind === 'found' && first.params).toEqual({ y: '3' })
    expect(second.kind === 'found' && second.params).toEqual({ y: '4' })
  })

  it('gives 404, not 405, when a deeper node matched only a prefix', () => {
    const r = compileRouter([route('/a/b', ['POST'])])
    expect(r.match('GET', '/a')).toEqual({ kind: 'not-found' })
    expect(r.match('GET', '/a/b/c')).toEqual({ kind: 'not-found' })
  })

  it('matches methods case-sensitively, as received', () => {
    const r = compileRouter([route('/x', ['GET'])])
    expect(r.match('get', '/x')).toEqual({ kind: 'method-not-allowed', allow: ['GET', 'HEAD'] })
  })

  describe('HEAD', () => {
    it('falls back to the GET route when the path has no HEAD route', () => {
      const r = compileRouter([route('/doc/{id}', ['GET'], 'get-doc')])
      expect(r.match('HEAD', '/doc/1')).toEqual({
        kind: 'found',
        value: 'get-doc',
        pattern: '/doc/{id}',
        params: { id: '1' },
        restStart: 6,
      })
    })

    it('prefers a HEAD route on the same path', () => {
      const r = compileRouter([route('/doc', ['GET'], 'get'), route('/doc', ['HEAD'], 'head')])
      expect(r.match('HEAD', '/doc')).toMatchObject({ value: 'head' })
      expect(r.match('GET', '/doc')).toMatchObject({ value: 'get' })
    })

    it('follows precedence: a more specific GET route beats a less specific HEAD route', () => {
      const r = compileRouter([route('/a/b', ['GET'], 'get-b'), route('/a/{x}', ['HEAD'], 'head-x')])
      expect(r.match('HEAD', '/a/b')).toMatchObject({ value: 'get-b' })
      expect(r.match('HEAD', '/a/c')).toMatchObject({ value: 'head-x' })
    })

    it('is 405 when the path has neither HEAD nor GET', () => {
      const r = compileRouter([route('/x', ['POST'])])
      expect(r.match('HEAD', '/x')).toEqual({ kind: 'method-not-allowed', allow: ['POST'] })
    })
  })

  describe('conflicts', () => {
    it('refuses the same method and pattern twice, naming the earlier pattern', () => {
      const err = conflictOf([route('/a', ['GET'], 'first'), route('/b', ['GET']), route('/a', ['POST', 'GET'], 'second')])
      expect(err.reason).toBe('GET /a conflicts with GET /a')
      expect(err.method).toBe('GET')
      expect(err.existingPattern).toBe('/a')
      expect(err.existingValue).toBe('first')
      expect(err.pattern).toBe('/a')
    })

    it('refuses patterns equal apart from parameter names', () => {
      const err = conflictOf([route('/u/{id}', ['GET']), route('/u/{uid}', ['GET'])])
      expect(err.reason).toBe('GET /u/{uid} conflicts with GET /u/{id}')
      expect(conflictOf([route('/n/{a:[0-9]+}/*', ['PUT']), route('/n/{b:[0-9]+}/*', ['PUT'])]).existingPattern).toBe(
        '/n/{a:[0-9]+}/*',
      )
      expect(conflictOf([route('/f/{a}.{b}', ['GET']), route('/f/{x}.{y}', ['GET'])]).reason).toBe(
        'GET /f/{x}.{y} conflicts with GET /f/{a}.{b}',
      )
    })

    it('refuses "*" overlapping a listed method, in either order', () => {
      expect(conflictOf([route('/a', ['*']), route('/a', ['DELETE'])]).reason).toBe('DELETE /a conflicts with DELETE /a')
      expect(conflictOf([route('/a', ['PATCH']), route('/a', ['*'])]).reason).toBe('PATCH /a conflicts with PATCH /a')
    })

    it('refuses patterns that only differ by an encoded literal', () => {
      expect(conflictOf([route('/café', ['GET']), route('/caf%C3%A9', ['GET'])]).existingPattern).toBe('/café')
    })

    it('accepts the same pattern for different methods', () => {
      expect(() => compileRouter([route('/a', ['GET']), route('/a', ['POST'])])).not.toThrow()
    })

    it('accepts patterns that differ in regex, trailing slash or catch-all', () => {
      expect(() =>
        compileRouter([
          route('/u/{id}', ['GET']),
          route('/u/{id:[0-9]+}', ['GET']),
          route('/u/{id:\\d+}', ['GET']),
          route('/u/{id}/', ['GET']),
          route('/u/*', ['GET']),
        ]),
      ).not.toThrow()
    })

    it('lets a GET route coexist with an explicit HEAD route', () => {
      expect(() => compileRouter([route('/a', ['GET']), route('/a', ['HEAD'])])).not.toThrow()
    })
  })

  describe('invalid registrations', () => {
    it('refuses an empty method list', () => {
      expect(reasonOf([route('/a', [])])).toBe('no methods')
    })

    it('refuses "*" mixed with other methods', () => {
      expect(reasonOf([route('/a', ['*', 'GET'])])).toBe('"*" cannot be combined with other methods')
    })

    it('refuses methods that are not upper-case tokens', () => {
      expect(reasonOf([route('/a', ['get'])])).toBe('invalid method "get"')
      expect(reasonOf([route('/a', ['GET ', 'POST'])])).toBe('invalid method "GET "')
      expect(reasonOf([route('/a', [''])])).toBe('invalid method ""')
    })

    it('ignores a method listed twice', () => {
      const r = compileRouter([route('/a', ['GET', 'GET'])])
      expect(r.match('POST', '/a')).toEqual({ kind: 'method-not-allowed', allow: ['GET', 'HEAD'] })
    })

    it('refuses an invalid pattern with the parser\'s reason', () => {
      expect(reasonOf([route('/ok', ['GET']), route('no-slash', ['GET'])])).toBe('must start with "/"')
      expect(reasonOf([route('/{id}/{id}', ['GET'])])).toBe('duplicate parameter "id"')
    })
  })
})
