import Type from 'typebox'
import { defineKind, namespaceOf } from './define.js'
import { Name } from './fields.js'

/**
 * Any JSON value.
 * @public
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

/**
 * A document in a collection. Timestamps (ISO 8601) are set by the server.
 * @public
 */
export interface Document {
  /** Unique in the collection; same syntax as resource names. */
  id: string
  /** The namespace of its collection. */
  namespace: string
  /** The collection it belongs to. */
  collection: string
  /** The content, valid against the collection's schema. */
  data: JsonValue
  /** When the document was first written (ISO 8601, set by the server; kept when it is replaced). */
  createdAt: string
  /** When the document was last written (ISO 8601, set by the server). */
  updatedAt: string
}

/**
 * Input for a document.
 * @public
 */
export interface DocumentSpec {
  /** 1 to 128 characters of letters, digits, `.`, `_` or `-`; unique in the collection. */
  id: string
  /** Namespace to put it in; defaults to `default`, and is required when the default namespace is disabled. */
  namespace?: string
  /** The collection to store it in; must exist in the namespace. */
  collection: string
  /** Plain JSON (no functions, cycles, `undefined` or non-finite numbers), at most 1 MiB serialized, valid against the collection's schema. */
  data: JsonValue
}

/** Documents are data, not config; 1 MiB each keeps the log and snapshots sane. */
export const MAX_DOCUMENT_BYTES = 1024 * 1024

export const documentKind = defineKind<DocumentSpec, Document>({
  kind: 'document',
  nameField: 'id',
  schema: Type.Object(
    { id: Name, namespace: Type.Optional(Name), collection: Name, data: Type.Unknown() },
    { additionalProperties: false },
  ),
  normalize(input, issues, ctx) {
    if (!('data' in input) || input.data === undefined) issues.push({ field: 'data', reason: 'is required' })
    else {
      const text = safeStringify(input.data)
      if (text === undefined) issues.push({ field: 'data', reason: 'must be plain JSON (no functions, cycles or undefined values)' })
      else if (Buffer.byteLength(text) > MAX_DOCUMENT_BYTES) issues.push({ field: 'data', reason: `must be at most ${MAX_DOCUMENT_BYTES} bytes as JSON` })
    }
    // The gateway stamps both timestamps when it proposes the change; applying keeps createdAt of a replaced document.
    return { id: input.id, namespace: namespaceOf(input, issues, ctx), collection: input.collection, data: input.data, createdAt: '', updatedAt: '' }
  },
})

function safeStringify(value: unknown): string | undefined {
  try {
    const text = JSON.stringify(value)
    if (text === undefined) return undefined
    // A round trip that changes the value means it held something JSON can't carry.
    return isDeepJson(value) ? text : undefined
  } catch {
    return undefined
  }
}

function isDeepJson(value: unknown, depth = 0): boolean {
  if (depth > 64) return false
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true
  if (typeof value === 'number') return Number.isFinite(value)
  if (Array.isArray(value)) return value.every((v) => isDeepJson(v, depth + 1))
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value)
    if (proto !== Object.prototype && proto !== null) return false
    return Object.values(value).every((v) => isDeepJson(v, depth + 1))
  }
  return false
}
