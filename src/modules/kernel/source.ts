import { bootKernel, type KernelFactories } from './boot.js'
import { makeContext } from './context.js'
import type { Kernel, KernelEnv } from './env.js'
import { makeImports } from './imports.js'
import { makeMaps } from './maps.js'
import { makeText } from './text.js'
import { makeWeb } from './web.js'

const FACTORIES: KernelFactories = { makeText, makeWeb, makeMaps, makeContext, makeImports }

/**
 * The kernel as source text: an expression evaluating to `(env) => Kernel`.
 *
 * Why source text from `Function.prototype.toString`: the kernel must be evaluated inside a vm realm and inside
 * worker threads, from `src` under vitest, from the tsup bundle in `dist` and from the esbuild bundle of the
 * benchmarks. Every kernel part is a self-contained function (it uses only its parameters and the intrinsics it
 * captures from `globalThis`), so its text survives any of those transforms and needs no build step or file
 * lookup. `__name` is defined in case a bundler's keepNames option wraps inner functions with it.
 */
export function kernelSource(): string {
  const parts = Object.entries(FACTORIES)
    .map(([name, fn]) => `${name}: (${fn.toString()})`)
    .join(',\n')
  return `(function () {
'use strict';
const __name = (fn) => fn;
const factories = {
${parts}
};
const boot = (${bootKernel.toString()});
return (env) => boot(env, factories);
})()`
}

/** The same kernel, called directly in the host realm (native runtime). */
export function createHostKernel(env: KernelEnv): Kernel {
  return bootKernel(env, FACTORIES)
}
