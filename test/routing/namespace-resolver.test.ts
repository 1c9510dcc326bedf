import { describe, expect, it } from 'vitest'
import { PatternError } from '../../src/routing/errors.js'
import { createNamespaceResolver } from '../../src/routing/namespace-resolver.js'
import type { DomainInput } from '../../src/routing/namespace-resolver.js'

function domain(name: string, namespace: string, patterns: string[], priority?: number): DomainInput {
  return priority === undefined ? { name, namespace, patterns } : { name, namespace, patterns, priority }
}

describe('createNamespaceResolver', () => {
  describe('without domains', () => {
    it('sends every host to the only namespace', () => {
      const resolve = createNamespaceResolver([], ['shop'])
      expect(resolve('anything.example')).toBe('shop')
      expect(resolve('')).toBe('shop')
    })

    it('with several namespaces falls back to "default" (DGate would pick an arbitrary one)', () => {
      expect(createNamespaceResolver([], ['a', 'b', 'default'])('x.com')).toBe('default')
    })

    it('with several namespaces and no "default" finds nothing', () => {
      expect(createNamespaceResolver([], ['a', 'b'])('x.com')).toBeUndefined()
    })

    it('with no namespaces at all finds nothing', () => {
      expect(createNamespaceResolver([], [])('x.com')).toBeUndefined()
    })
  })

  it('goes to the namespace of the domain whose pattern matches', () => {
    const resolve = createNamespaceResolver(
      [domain('shop', 'shop', ['shop.example.com']), domain('blog', 'blog', ['blog.*'])],
      ['shop', 'blog', 'default'],
    )
    expect(resolve('shop.example.com')).toBe('shop')
    expect(resolve('blog.example.com')).toBe('blog')
  })

  it('uses any of a domain\'s patterns', () => {
    const resolve = createNamespaceResolver([domain('d', 'ns', ['a.com', 'b.com'])], ['ns'])
    expect(resolve('a.com')).toBe('ns')
    expect(resolve('b.com')).toBe('ns')
    expect(resolve('c.com')).toBeUndefined()
  })

  it('tries higher priority first, whatever the names and input order', () => {
    const domains = [domain('a-low', 'low', ['*.example.com'], 1), domain('z-high', 'high', ['api.*'], 10)]
    expect(createNamespaceResolver(domains, ['low', 'high'])('api.example.com')).toBe('high')
    expect(createNamespaceResolver([...domains].reverse(), ['low', 'high'])('api.example.com')).toBe('high')
  })

  it('treats a missing priority as 0, below positive and above negative ones', () => {
    const resolve = createNamespaceResolver(
      [domain('neg', 'neg', ['*'], -1), domain('zero', 'zero', ['*']), domain('pos', 'pos', ['x.com'], 1)],
      ['neg', 'zero', 'pos'],
    )
    expect(resolve('x.com')).toBe('pos')
    expect(resolve('y.com')).toBe('zero')
  })

  it('breaks priority ties by name ascending (DGate sorts descending)', () => {
    const domains = [domain('beta', 'b', ['*.example.com']), domain('alpha', 'a', ['*.example.com'])]
    expect(createNamespaceResolver(domains, ['a', 'b'])('x.example.com')).toBe('a')
    expect(createNamespaceResolver([...domains].reverse(), ['a', 'b'])('x.example.com')).toBe('a')
  })

  it('breaks ties between equal names in different namespaces by namespace', () => {
    const domains = [domain('www', 'two', ['*']), domain('www', 'one', ['*'])]
    expect(createNamespaceResolver(domains, ['one', 'two'])('x')).toBe('one')
  })

  it('falls back to "default" when nothing matches and no domain belongs to it', () => {
    const resolve = createNamespaceResolver([domain('d', 'test', ['test.com'])], ['default', 'test'])
    expect(resolve('nomatch.com')).toBe('default')
    expect(resolve('')).toBe('default')
    expect(resolve('test.com.jp')).toBe('default')
    expect(resolve('test.com')).toBe('test')
  })

  it('finds nothing when a domain belongs to "default" and nothing matches', () => {
    const resolve = createNamespaceResolver(
      [domain('d', 'test', ['test.com']), domain('main', 'default', ['main.com'])],
      ['default', 'test'],
    )
    expect(resolve('main.com')).toBe('default')
    expect(resolve('nomatch.com')).toBeUndefined()
  })

  it('finds nothing when nothing matches and there is no "default" namespace', () => {
    expect(createNamespaceResolver([domain('d', 'test', ['test.com'])], ['test'])('other.com')).toBeUndefined()
  })

  it('does not apply the single-namespace rule once a domain exists', () => {
    expect(createNamespaceResolver([domain('d', 'only', ['a.com'])], ['only'])('b.com')).toBeUndefined()
  })

  it('matches regex patterns anchored and hosts case-insensitively', () => {
    const resolve = createNamespaceResolver([domain('d', 'ns', ['/api\\.example\\.com/', 'WWW.Example.com'])], ['ns'])
    expect(resolve('api.example.com')).toBe('ns')
    expect(resolve('www.example.com')).toBe('ns')
    expect(resolve('api.example.com.evil.net')).toBeUndefined()
  })

  it('refuses an invalid pattern, naming the domain', () => {
    try {
      createNamespaceResolver([domain('bad', 'ns', ['ok.com', '/(/'])], ['ns'])
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(PatternError)
      expect((err as PatternError).pattern).toBe('/(/')
      expect((err as PatternError).reason).toMatch(/^domain ns\/bad: invalid regular expression: /)
    }
    expect(() => createNamespaceResolver([domain('empty', 'ns', [''])], ['ns'])).toThrow('domain ns/empty: empty pattern')
  })
})
