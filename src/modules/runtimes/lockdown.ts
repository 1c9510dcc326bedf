/**
 * The `lockdown()` every sandbox realm runs (a vm realm on the host thread, the check realm, and each worker).
 *
 * Why not plain `lockdown()`: its default `overrideTaming: 'moderate'` turns three intrinsic properties into
 * accessors, `Array.prototype[Symbol.iterator]`, `%IteratorPrototype%[Symbol.iterator]` and
 * `Promise.prototype.constructor`, and V8 watches exactly those with *isolate-wide* protectors (ArrayIterator,
 * MapIterator, SetIterator, PromiseSpecies). Invalidating them in a vm realm slows the host realm too: every array
 * spread, `for…of` over arrays, maps and sets, and promise species lookup leaves the fast path, for the life of the
 * process. Measured here: the host's plain proxying went from 40 to 50 µs per request after one module was
 * load-checked, and a spread call from 3 ns to 120 ns (bench/modules, temp/prof notes in issue 4).
 *
 * So this repairs with `overrideTaming: 'min'`, enables overrides itself for the rest of SES's moderate set, and
 * only then hardens. The result is moderate taming minus those three properties: assigning them on an instance
 * (`arr[Symbol.iterator] = f`, `promise.constructor = C`) throws, as it would for any frozen intrinsic.
 * (SES still replaces `RegExp.prototype.constructor`, which invalidates V8's isolate-wide RegExp species protector:
 * `split`/`replace`/`match` with a RegExp argument are slower in the host once a realm exists. The proxy's hot
 * path uses none of them.)
 *
 * Self-contained: it is serialized with `Function.prototype.toString` and evaluated inside the realm, where
 * `repairIntrinsics` and `hardenIntrinsics` are the globals `ses.umd.js` installed.
 */
export function sandboxLockdown(options: Record<string, string>): void {
  const g = globalThis as unknown as { repairIntrinsics(options: object): void; hardenIntrinsics(): void }
  g.repairIntrinsics({ ...options, overrideTaming: 'min' })
  const typedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object
  const generator = Object.getPrototypeOf(function* () {}) as object
  const errorFields = ['message', 'name']
  const plan: [object, readonly PropertyKey[] | 'all', string][] = [
    [Object.prototype, ['valueOf'], 'Object.prototype'],
    [Function.prototype, ['constructor', 'bind'], 'Function.prototype'],
    [Error.prototype, ['constructor', 'message', 'toString'], 'Error.prototype'],
    [TypeError.prototype, ['constructor', ...errorFields], 'TypeError.prototype'],
    [SyntaxError.prototype, errorFields, 'SyntaxError.prototype'],
    [RangeError.prototype, errorFields, 'RangeError.prototype'],
    [URIError.prototype, errorFields, 'URIError.prototype'],
    [EvalError.prototype, errorFields, 'EvalError.prototype'],
    [ReferenceError.prototype, errorFields, 'ReferenceError.prototype'],
    [AggregateError.prototype, errorFields, 'AggregateError.prototype'],
    [Array.prototype, ['toString', 'push', 'concat'], 'Array.prototype'],
    [typedArrayPrototype, 'all', '%TypedArray%.prototype'],
    [generator, ['constructor', 'name', 'toString'], '%Generator%'],
  ]
  // SES's override repair: a data property becomes a getter of the same value and a setter that defines an own
  // property on the receiver, so `instance.prop = x` works on objects inheriting a frozen `prop`.
  const enable = (target: object, key: PropertyKey, path: string): void => {
    const desc = Object.getOwnPropertyDescriptor(target, key)
    if (!desc || !('value' in desc) || !desc.configurable) return
    const value: unknown = desc.value
    const get = function (): unknown {
      return value
    }
    const set = function (this: object, next: unknown): void {
      if (this === target) throw new TypeError(`Cannot assign to read only property '${String(key)}' of '${path}'`)
      if (Object.prototype.hasOwnProperty.call(this, key)) (this as Record<PropertyKey, unknown>)[key] = next
      else Object.defineProperty(this, key, { value: next, writable: true, enumerable: true, configurable: true })
    }
    Object.defineProperty(get, 'originalValue', { value, writable: false, enumerable: false, configurable: false })
    Object.defineProperty(target, key, { get, set, enumerable: desc.enumerable === true, configurable: true })
  }
  for (const [target, keys, path] of plan) {
    for (const key of keys === 'all' ? Reflect.ownKeys(target) : keys) enable(target, key, path)
  }
  g.hardenIntrinsics()
}

/**
 * A script that runs {@link sandboxLockdown} with `options` in the realm evaluating it. `__name` is defined in case
 * a bundler's keepNames option wrapped inner functions with it.
 */
export function lockdownScript(options: Record<string, string>): string {
  return `(function () { const __name = (fn) => fn; (${sandboxLockdown.toString()})(${JSON.stringify(options)}); })();`
}
