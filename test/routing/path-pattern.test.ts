import { describe, expect, it } from 'vitest'
import { PatternError } from '../../src/routing/errors.js'
import { parsePathPattern } from '../../src/routing/path-pattern.js'

function reasonOf(pattern: string): string {
  try {
    parsePathPattern(pattern)
  } catch (err) {
    expect(err).toBeInstanceOf(PatternError)
    expect((err as PatternError).pattern).toBe(pattern)
    return (err as PatternError).reason
  }
  throw new Error(`expected ${pattern} to be refused`)
}

/** The segments with regexes reduced to their source, for readable expectations. */
function shape(pattern: string): unknown[] {
  return parsePathPattern(pattern).segments.map((s) =>
    s.kind === 'dynamic'
      ? s.parts.map((p) => (p.kind === 'static' ? p.text : p.source === undefined ? `{${p.name}}` : `{${p.name}:${p.source}}`))
      : s.kind === 'static'
        ? s.text
        : '*',
  )
}

describe('parsePathPattern', () => {
  it('splits literal segments, keeping empty ones so a trailing slash counts', () => {
    expect(shape('/')).toEqual([''])
    expect(shape('/users')).toEqual(['users'])
    expect(shape('/users/')).toEqual(['users', ''])
    expect(shape('/a//b')).toEqual(['a', '', 'b'])
  })

  it('parses a whole-segment parameter', () => {
    expect(shape('/users/{id}')).toEqual(['users', ['{id}']])
    expect(parsePathPattern('/users/{id}').paramNames).toEqual(['id'])
  })

  it('parses a regex parameter and anchors it', () => {
    const seg = parsePathPattern('/n/{id:[0-9]+}').segments[1]
    expect(seg?.kind).toBe('dynamic')
    const part = seg?.kind === 'dynamic' ? seg.parts[0] : undefined
    expect(part?.kind === 'param' && part.source).toBe('[0-9]+')
    const regex = part?.kind === 'param' ? part.regex : undefined
    expect(regex?.test('123')).toBe(true)
    expect(regex?.test('12a')).toBe(false)
    expect(regex?.test('a12')).toBe(false)
  })

  it('anchors a regex with alternation as a whole', () => {
    const seg = parsePathPattern('/{v:a|b}').segments[0]
    const part = seg?.kind === 'dynamic' ? seg.parts[0] : undefined
    const regex = part?.kind === 'param' ? part.regex : undefined
    expect(regex?.test('a')).toBe(true)
    expect(regex?.test('ab')).toBe(false)
    expect(regex?.test('xb')).toBe(false)
  })

  it('keeps quantifier braces inside a regex, nesting as chi does', () => {
    expect(shape('/zip/{code:[0-9]{5}}')).toEqual(['zip', ['{code:[0-9]{5}}']])
    expect(shape('/d/{date:[0-9]{4}-[0-9]{2}-[0-9]{2}}/x')).toEqual(['d', ['{date:[0-9]{4}-[0-9]{2}-[0-9]{2}}'], 'x'])
  })

  it('keeps "/", ":" and "*" inside a regex', () => {
    expect(shape('/{p:[^/]+}/{t:a:b}/{s:.*}')).toEqual([['{p:[^/]+}'], ['{t:a:b}'], ['{s:.*}']])
  })

  it('parses several parameters inside one segment', () => {
    expect(shape('/{a}-{b}')).toEqual([['{a}', '-', '{b}']])
    expect(shape('/files/{name}.{ext}')).toEqual(['files', ['{name}', '.', '{ext}']])
    expect(shape('/v{major:[0-9]+}.{minor}/x')).toEqual([['v', '{major:[0-9]+}', '.', '{minor}'], 'x'])
    expect(parsePathPattern('/files/{name}.{ext}').paramNames).toEqual(['name', 'ext'])
  })

  it('parses a trailing catch-all, named "*"', () => {
    expect(shape('/*')).toEqual(['*'])
    expect(shape('/api/{v}/*')).toEqual(['api', ['{v}'], '*'])
    expect(parsePathPattern('/api/{v}/*').paramNames).toEqual(['v', '*'])
  })

  it('percent-encodes literal characters a client would have to encode', () => {
    expect(shape('/café/a b')).toEqual(['caf%C3%A9', 'a%20b'])
    expect(shape('/€{x}')).toEqual([['%E2%82%AC', '{x}']])
  })

  it('keeps valid escapes, unreserved characters and sub-delimiters as written', () => {
    expect(shape("/a%2Fb/-._~!$&'()+,;=:@")).toEqual(['a%2Fb', "-._~!$&'()+,;=:@"])
  })

  it('encodes a "%" that does not start an escape', () => {
    expect(shape('/100%/5%z')).toEqual(['100%25', '5%25z'])
  })

  it('accepts letters, digits, "_", "." and "-" in parameter names', () => {
    expect(parsePathPattern('/{user_id}/{a.b}/{x-y}/{ID2}').paramNames).toEqual(['user_id', 'a.b', 'x-y', 'ID2'])
  })

  describe('refuses', () => {
    it('a pattern not starting with "/"', () => {
      expect(reasonOf('')).toBe('must start with "/"')
      expect(reasonOf('users')).toBe('must start with "/"')
      expect(reasonOf('*')).toBe('must start with "/"')
    })

    it('an unclosed "{", giving its position', () => {
      expect(reasonOf('/abc/{id')).toBe('unclosed "{" at 5')
      expect(reasonOf('/{id:[0-9]{3}')).toBe('unclosed "{" at 1')
    })

    it('a "}" with no "{", giving its position', () => {
      expect(reasonOf('/a}')).toBe('unmatched "}" at 2')
      expect(reasonOf('/{a}}')).toBe('unmatched "}" at 4')
    })

    it('an empty parameter name (chi accepts "{}")', () => {
      expect(reasonOf('/{}')).toBe('empty parameter name at 1')
      expect(reasonOf('/x/{:[0-9]+}')).toBe('empty parameter name at 3')
    })

    it('a parameter name with other characters', () => {
      expect(reasonOf('/{a b}')).toBe('invalid parameter name "a b" at 1')
      expect(reasonOf('/{a/b}')).toBe('invalid parameter name "a/b" at 1')
    })

    it('the reserved name "__proto__"', () => {
      expect(reasonOf('/{__proto__}')).toBe('reserved parameter name "__proto__" at 1')
    })

    it('an empty regular expression', () => {
      expect(reasonOf('/{id:}')).toBe('empty regular expression for "id" at 1')
    })

    it('an invalid regular expression, saying why', () => {
      expect(reasonOf('/{id:[0-9}')).toMatch(/^invalid regular expression for "id": .+/)
      expect(reasonOf('/{id:(a}')).toMatch(/^invalid regular expression for "id": /)
    })

    it('duplicate parameter names', () => {
      expect(reasonOf('/{id}/{id}')).toBe('duplicate parameter "id"')
      expect(reasonOf('/{id}/{id:[0-9]+}')).toBe('duplicate parameter "id"')
      expect(reasonOf('/{a}-{a}')).toBe('duplicate parameter "a"')
    })

    it('parameters not separated by literal text', () => {
      expect(reasonOf('/{a}{b}')).toBe('parameter at 4 must be separated from the previous one by literal text')
    })

    it('"*" anywhere but at the end', () => {
      expect(reasonOf('/*/a')).toBe('"*" is only allowed at the end')
      expect(reasonOf('/a*b')).toBe('"*" is only allowed at the end')
      expect(reasonOf('/**')).toBe('"*" is only allowed at the end')
    })

    it('"*" that is not a whole segment', () => {
      expect(reasonOf('/files*')).toBe('"*" must be a whole segment, as in "/files/*" (at 6)')
      expect(reasonOf('/{a}*')).toBe('"*" must be a whole segment, as in "/files/*" (at 4)')
    })
  })

  it('puts the pattern in the error message', () => {
    expect(() => parsePathPattern('/{id')).toThrow('invalid pattern "/{id": unclosed "{" at 1')
  })
})
