// Test helpers for code that uses dgate.
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
