import { describe, expect, it } from 'vitest'
import { hostFromHeader } from '../../src/routing/host-pattern.js'

describe('hostFromHeader', () => {
  it('returns a plain host lower-cased', () => {
    expect(hostFromHeader('Example.COM')).toBe('example.com')
    expect(hostFromHeader('localhost')).toBe('localhost')
  })

  it('strips the port', () => {
    expect(hostFromHeader('example.com:8080')).toBe('example.com')
    expect(hostFromHeader('API.Example.com:443')).toBe('api.example.com')
    expect(hostFromHeader('127.0.0.1:3000')).toBe('127.0.0.1')
  })

  it('keeps the brackets of an IPv6 literal, with or without a port', () => {
    expect(hostFromHeader('[::1]:8080')).toBe('[::1]')
    expect(hostFromHeader('[::1]')).toBe('[::1]')
    expect(hostFromHeader('[2001:DB8::1]:443')).toBe('[2001:db8::1]')
    expect(hostFromHeader('[::ffff:192.0.2.1]')).toBe('[::ffff:192.0.2.1]')
  })

  it('accepts an empty port, as RFC 3986 does', () => {
    expect(hostFromHeader('example.com:')).toBe('example.com')
    expect(hostFromHeader('[::1]:')).toBe('[::1]')
  })

  it('accepts ports up to 65535', () => {
    expect(hostFromHeader('a:65535')).toBe('a')
    expect(hostFromHeader('a:0')).toBe('a')
    expect(hostFromHeader('a:65536')).toBeUndefined()
    expect(hostFromHeader('a:000080')).toBeUndefined()
  })

  it('returns undefined for a missing or empty header', () => {
    expect(hostFromHeader(undefined)).toBeUndefined()
    expect(hostFromHeader('')).toBeUndefined()
  })

  it('returns undefined when the host part is empty', () => {
    expect(hostFromHeader(':8080')).toBeUndefined()
    expect(hostFromHeader(':')).toBeUndefined()
  })

  it('returns undefined for spaces and control characters', () => {
    expect(hostFromHeader('exa mple.com')).toBeUndefined()
    expect(hostFromHeader(' example.com')).toBeUndefined()
    expect(hostFromHeader('example.com ')).toBeUndefined()
    expect(hostFromHeader('example.com\t')).toBeUndefined()
    expect(hostFromHeader('example\u0000.com')).toBeUndefined()
    expect(hostFromHeader('example.com\r\nX-Evil: 1')).toBeUndefined()
    expect(hostFromHeader('example\u007f.com')).toBeUndefined()
  })

  it('returns undefined for characters that have no place in a host', () => {
    for (const bad of ['a/b', 'a\\b', 'a?b', 'a#b', 'user@host', 'a{b}', 'exämple.com', 'a"b']) {
      expect(hostFromHeader(bad), bad).toBeUndefined()
    }
  })

  it('returns undefined for a non-numeric port', () => {
    expect(hostFromHeader('example.com:http')).toBeUndefined()
    expect(hostFromHeader('example.com:80a')).toBeUndefined()
    expect(hostFromHeader('example.com:-1')).toBeUndefined()
    expect(hostFromHeader('example.com:80:80')).toBeUndefined()
  })

  it('returns undefined for bad brackets', () => {
    expect(hostFromHeader('[::1')).toBeUndefined()
    expect(hostFromHeader('::1]')).toBeUndefined()
    expect(hostFromHeader('[]')).toBeUndefined()
    expect(hostFromHeader('[]:80')).toBeUndefined()
    expect(hostFromHeader('[::1]x')).toBeUndefined()
    expect(hostFromHeader('[::1]]')).toBeUndefined()
    expect(hostFromHeader('a[::1]')).toBeUndefined()
    expect(hostFromHeader('[::1]:8x')).toBeUndefined()
  })

  it('returns undefined for IPv6 literals that are not IPv6', () => {
    expect(hostFromHeader('[1.2.3.4]')).toBeUndefined()
    expect(hostFromHeader('[::g]')).toBeUndefined()
    expect(hostFromHeader('[fe80::1%25eth0]')).toBeUndefined()
  })

  it('returns undefined for a bare IPv6 address without brackets', () => {
    expect(hostFromHeader('::1')).toBeUndefined()
    expect(hostFromHeader('2001:db8::1')).toBeUndefined()
  })

  it('keeps sub-delimiters and percent signs that RFC 3986 allows in a reg-name', () => {
    expect(hostFromHeader("a-b_c~d!$&'()*+,;=%41")).toBe("a-b_c~d!$&'()*+,;=%41")
  })
})
