/**
 * Thrown when a host pattern, a path pattern or a route registration is invalid.
 *
 * @remarks
 * `reason` is a short, precise explanation meant for API error bodies (for example
 * `unclosed "{" at 5`); `message` adds the offending pattern for logs.
 */
export class PatternError extends Error {
  /** The pattern that was refused, exactly as given. */
  readonly pattern: string
  /** Why the pattern was refused, without the pattern itself. */
  readonly reason: string

  /**
   * @param pattern - the refused pattern
   * @param reason - why it was refused
   */
  constructor(pattern: string, reason: string) {
    super(`invalid pattern ${JSON.stringify(pattern)}: ${reason}`)
    this.name = 'PatternError'
    this.pattern = pattern
    this.reason = reason
  }
}

/**
 * Thrown when a route registration would serve the same method and path as an earlier one.
 *
 * @remarks
 * Two path patterns conflict when they are equal once parameter names are ignored
 * (`/u/{id}` and `/u/{uid}`) and share a method; `*` covers every standard method.
 * `reason` names the earlier pattern; `existingValue` is the value registered with it.
 */
export class RouteConflictError extends PatternError {
  /** The method both registrations claim. */
  readonly method: string
  /** The earlier pattern the new one collides with. */
  readonly existingPattern: string
  /** The value registered with the earlier pattern. */
  readonly existingValue: unknown

  /**
   * @param pattern - the pattern being registered
   * @param method - the method both registrations claim
   * @param existingPattern - the earlier pattern
   * @param existingValue - the value registered with the earlier pattern
   */
  constructor(pattern: string, method: string, existingPattern: string, existingValue: unknown) {
    super(pattern, `${method} ${pattern} conflicts with ${method} ${existingPattern}`)
    this.name = 'RouteConflictError'
    this.method = method
    this.existingPattern = existingPattern
    this.existingValue = existingValue
  }
}
