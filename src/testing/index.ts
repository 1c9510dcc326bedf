// dgate/testing: a gateway for tests (createTestGateway) and a harness for modules (createModuleHarness) that runs
// a module's hooks as the gateway does, without sockets, in any test runner (vitest, node:test, jest).
import { createGateway, type Gateway, type GatewayOptions } from '../gateway.js'
import type { GatewayResources } from '../state/seed.js'

/**
 * A gateway for tests: memory storage, seeded with `resources`, no listeners. Close it in `afterEach`.
 *
 * @example
 * ```ts
 * const gw = await createTestGateway({ services: [{ name: 'users', urls: ['http://127.0.0.1:3001'] }] })
 * ```
 * @public
 */
export function createTestGateway(resources: GatewayResources = {}, options: Omit<GatewayOptions, 'storage' | 'resources'> = {}): Promise<Gateway> {
  return createGateway({ ...options, storage: 'memory', resources })
}

export type { Gateway, GatewayOptions, GatewayResources }
export { createModuleHarness } from './harness.js'
export type {
  ModuleHarness,
  ModuleHarnessOptions,
  HarnessRequest,
  HarnessHeaders,
  HarnessBody,
  HarnessUpstreamResponse,
  HarnessUpstreamFailure,
  HarnessUpstreamHandler,
  HarnessFetchHandler,
  HarnessUpstreamRequest,
  HarnessResponse,
  HarnessHeaderView,
  HarnessBodyView,
  HarnessLog,
  HarnessHookFailure,
  HarnessRunResult,
  HarnessCallResult,
  HarnessCallOptions,
  HarnessDocuments,
  HarnessRoute,
} from './harness.js'
export type { HookName, HookErrorCode, HeaderList, ModuleLogLevel } from '../modules/types.js'
export type { DefinedModule, ModuleHooks, ModuleContext, ModuleRequest, ModuleResponse, ModuleUpstream, HeaderMap, QueryValues, Cookie, CookieOptions, BodyInput, HookError } from '../modules/context-types.js'
export type { JsonValue, Document, DocumentSpec } from '../resources/document.js'
export type { CollectionSpec, CollectionVisibility } from '../resources/collection.js'
export type { JsonSchema } from '../documents/json-schema.js'
export type { ServiceSpec } from '../resources/service.js'
