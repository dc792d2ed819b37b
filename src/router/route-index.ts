import type { BackendRegistry, Pool } from './balancer.ts';
import type { MetricsRegistry, RawServiceMetrics } from './metrics.ts';
import type { Route, RouteTable } from './route-table.ts';

/** A route ready for the hot path: its pool and metrics resolved once per table, not per request. */
export interface ActiveRoute {
  readonly route: Route;
  readonly pool: Pool;
  readonly metrics: RawServiceMetrics;
}

/**
 * Host name → ActiveRoute for the current table. Replaced whole on each update, so a request
 * sees either the old table or the new one, never half of each.
 */
export class RouteIndex {
  #byHost = new Map<string, ActiveRoute>();
  #version = -1;

  constructor(
    private readonly backends: BackendRegistry,
    private readonly metrics: MetricsRegistry,
  ) {}

  get version(): number {
    return this.#version;
  }

  lookup(host: string): ActiveRoute | undefined {
    return this.#byHost.get(host);
  }

  apply(table: RouteTable): void {
    const states = this.backends.apply(table.routes.flatMap((r) => r.backends));
    const next = new Map<string, ActiveRoute>();
    for (const route of table.routes) {
      const pool = this.backends.newPool(route.backends.map((b) => states.get(b.id)!));
      next.set(route.hostname, { route, pool, metrics: this.metrics.for(route.service) });
    }
    this.#byHost = next;
    this.#version = table.version;
  }
}
