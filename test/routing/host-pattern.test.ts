import { describe, expect, it } from 'vitest'
import { PatternError } from '../../src/routing/errors.js'
import { compileHostPattern } from '../../src/routing/host-pattern.js'

function matches(pattern: string, host: string): boolean {
  return compileHostPattern(pattern)(host)
}

function reasonOf(pattern: string): string {
  try {
    compileHostPattern(pattern)
  } catch (err) {
    expect(err).toBeInstanceOf(PatternError)
    return (err as PatternError).reason
  }
  throw new Error(`expected ${pattern} to be refused`)
}

describe('compileHostPattern', () => {
  it('"*" matches every host, the empty one included', () => {
    expect(matches('*', 'example.com')).toBe(true)
    expect(matches('*', '')).toBe(true)
  })

  it('"**" and longer runs collapse to "*"', () => {
    expect(matches('**', 'anything.net')).toBe(true)
    expect(matches('***.example.com', 'a.example.com')).toBe(true)
    expect(matches('***.example.com', 'example.org')).toBe(false)
    expect(matches('api.**', 'api.example.com')).toBe(true)
  })

  it('"*x" matches on suffix', () => {
    expect(matches('*.example.com', 'api.example.com')).toBe(true)
    expect(matches('*.example.com', 'example.com')).toBe(false)
    expect(matches('*.example.com', 'api.example.com.evil.net')).toBe(false)
  })

  it('"x*" matches on prefix', () => {
    expect(matches('example.*', 'example.com')).toBe(true)
    expect(matches('example.*', 'example.net')).toBe(true)
    expect(matches('example.*', 'www.example.com')).toBe(false)
  })

  it('"*x*" matches when the host contains x', () => {
    expect(matches('*.example.net*', 'a.example.net')).toBe(true)
    expect(matches('*.example.net*', 'a.example.net.cdn.io')).toBe(true)
    expect(matches('*.example.net*', 'example.net')).toBe(false)
  })

  it('anything else is an exact comparison, with a middle "*" taken literally', () => {
    expect(matches('example.com', 'example.com')).toBe(true)
    expect(matches('example.com', 'www.example.com')).toBe(false)
    expect(matches('example.com', 'example.co')).toBe(false)
    expect(matches('a*b', 'a*b')).toBe(true)
    expect(matches('a*b', 'axxb')).toBe(false)
  })

  it('is case-insensitive: literal patterns are lower-cased for lower-cased hosts', () => {
    expect(matches('Example.COM', 'example.com')).toBe(true)
    expect(matches('*.Example.com', 'api.example.com')).toBe(true)
    expect(matches('API.*', 'api.example.com')).toBe(true)
    expect(matches('*Mple*', 'example.com')).toBe(true)
    expect(matches('/EXAMPLE\\.com/', 'example.com')).toBe(true)
  })

  it('"/re/" is a regular expression anchored to the whole host', () => {
    const sub = compileHostPattern('/.+\\.example\\.(com|net)/')
    expect(sub('a.example.com')).toBe(true)
    expect(sub('b.c.example.net')).toBe(true)
    expect(sub('example.com')).toBe(false)
    const exact = compileHostPattern('/example\\.com/')
    expect(exact('example.com')).toBe(true)
    expect(exact('example.com.evil.net')).toBe(false)
    expect(exact('evil-example.com')).toBe(false)
  })

  it('anchors alternations as a whole', () => {
    const alt = compileHostPattern('/a\\.com|b\\.com/')
    expect(alt('a.com')).toBe(true)
    expect(alt('b.com')).toBe(true)
    expect(alt('a.com.evil')).toBe(false)
    expect(alt('evil.b.com')).toBe(false)
  })

  it('still accepts explicit anchors in a regex', () => {
    const anchored = compileHostPattern('/^api\\.example\\.com$/')
    expect(anchored('api.example.com')).toBe(true)
    expect(anchored('xapi.example.com')).toBe(false)
  })

  it('treats a pattern wrapped in "*" as contains, not a regex', () => {
    expect(matches('*/x/*', 'a/x/b')).toBe(true)
    expect(matches('*/x/*', 'x')).toBe(false)
  })

  it('treats a lone "/" as an exact host', () => {
    expect(matches('/', '/')).toBe(true)
    expect(matches('/', 'a')).toBe(false)
  })

  it('refuses an empty pattern', () => {
    expect(reasonOf('')).toBe('empty pattern')
  })

  it('refuses an empty regular expression', () => {
    expect(reasonOf('//')).toBe('empty regular expression')
  })

  it('refuses an invalid regular expression and says why', () => {
    expect(reasonOf('/(unclosed/')).toMatch(/^invalid regular expression: .+/)
    expect(reasonOf('/[a-/')).toMatch(/^invalid regular expression: /)
  })

  it('names the pattern in the error message', () => {
    expect(() => compileHostPattern('/(/')).toThrow('invalid pattern "/(/"')
  })
})
