import { describe, expect, it } from 'vitest'
import { decodePayload } from '../../src/admin/module-payload.js'

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64')

describe('module payload decoding without payloadEncoding', () => {
  it.each([
    ['DGate base64 of source', b64('export const x = 1\n'), 'export const x = 1\n'],
    ['base64 of non-ASCII UTF-8 text', b64('// héllo ✓\n'), '// héllo ✓\n'],
    ['plain source', 'export const requestHandler = (ctx) => {}', 'export const requestHandler = (ctx) => {}'],
    ['a short word that is valid base64 of invalid UTF-8', 'test', 'test'],
    ['base64 whose bytes are control characters', 'AAAA', 'AAAA'],
    ['base64 of binary', Buffer.from([0xff, 0xfe, 0x00, 0x01]).toString('base64'), Buffer.from([0xff, 0xfe, 0x00, 0x01]).toString('base64')],
    ['unpadded base64 (not DGate\'s form)', b64('abcd').replace(/=+$/, ''), b64('abcd').replace(/=+$/, '')],
    ['url-safe base64 alphabet', 'a-b_', 'a-b_'],
    ['an identifier of 4n letters that decodes to text', 'aGVsbG8=', 'hello'],
  ])('%s', (_label, payload, expected) => {
    expect(decodePayload(payload, undefined, 'm')).toBe(expected)
  })

  it('an explicit encoding wins over detection', () => {
    expect(decodePayload('aGVsbG8=', 'text', 'm')).toBe('aGVsbG8=')
    expect(decodePayload(b64('x'), 'base64', 'm')).toBe('x')
    expect(() => decodePayload('test', 'base64', 'm')).toThrow('module "m": payload must be padded standard base64 of UTF-8 text')
  })

  it('leaves non-strings to schema validation', () => {
    expect(decodePayload(42, undefined, 'm')).toBe(42)
  })
})
