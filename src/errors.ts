/**
 * The base class of every error dgate throws on purpose. `status` is the HTTP status the admin API answers with.
 * @public
 */
export class DGateError extends Error {
  /** HTTP status that best describes the error. */
  readonly status: number
  /** Subclasses pass the HTTP status that fits, e.g. 409 for a conflict. */
  constructor(message: string, status: number) {
    super(message)
    this.name = new.target.name
    this.status = status
  }
}

/**
 * One problem with one field of an input.
 * @public
 */
export interface FieldIssue {
  /** Field path in the input, like `paths[1]` or `urls[0]`; empty for the whole input. */
  field: string
  /** Why the value is refused, like `must start with "/"`. */
  reason: string
}

/**
 * An input was refused: the message names the resource, the field and the reason,
 * e.g. `route "users": paths[1] must start with "/"`.
 * @public
 */
export class ValidationError extends DGateError {
  /** The kind of resource being validated. */
  readonly kind: string
  /** The resource's name, when the input had one. */
  readonly resourceName: string | undefined
  /** Every issue found; the message describes the first. */
  readonly issues: readonly FieldIssue[]
  /** Builds the message from `kind`, `resourceName` and the first issue. */
  constructor(kind: string, resourceName: string | undefined, issues: readonly FieldIssue[]) {
    const first = issues[0] ?? { field: '', reason: 'is invalid' }
    super(`${describe(kind, resourceName)}: ${first.field ? `${first.field} ` : ''}${first.reason}`, 400)
    this.kind = kind
    this.resourceName = resourceName
    this.issues = issues
  }
}

/**
 * A change conflicts with the current state: a resource still in use, or a duplicate route.
 * @public
 */
export class ConflictError extends DGateError {
  constructor(message: string) {
    super(message, 409)
  }
}

/**
 * The resource asked for does not exist.
 * @public
 */
export class NotFoundError extends DGateError {
  constructor(message: string) {
    super(message, 404)
  }
}

/**
 * A conditional write (`If-Match`, or `expectedVersion` on a change) found the resource at another version, or
 * missing: the change was refused and nothing changed.
 * @public
 */
export class PreconditionFailedError extends DGateError {
  constructor(message: string) {
    super(message, 412)
  }
}

/** `route "users"`, or just `route` when the input had no usable name. */
export function describe(kind: string, name: string | undefined): string {
  return name === undefined || name === '' ? kind : `${kind} "${name}"`
}
