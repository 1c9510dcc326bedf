import type { Route } from '../resources/route.js'
import type { ForwardPlan } from './forward.js'

/** A routed request whose route has modules: the module stage runs its hooks around (or instead of) forwarding. */
export class ModuleCall {
  constructor(
    readonly route: Route,
    readonly namespace: string,
    /** How the request would be forwarded without modules; undefined on routes without a service. */
    readonly forward: ForwardPlan | undefined,
    readonly params: Readonly<Record<string, string>>,
    /** The matched pattern, the raw path and where its catch-all remainder starts (for stripPath). */
    readonly pattern: string,
    readonly path: string,
    readonly restStart: number,
    /** The client's raw query, without `?`. */
    readonly query: string,
  ) {}
}
