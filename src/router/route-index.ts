import type { BackendRegistry, BackendState, Pool } from './balancer.ts';
import { CutoverSplit, legacyLabel } from './cutover.ts';
import { type MetricsRegistry, probeLabel, type RawServiceMetrics } from './metrics.ts';
import type { Route, RouteTable } from './route-table.ts';
import type { CertIndex } from './tls-sni.ts';

/** A route ready for the hot path: its pool and metrics resolved once per table, not per request. */
export interface ActiveRoute {
  readonly route: Route;
  readonly pool: Pool;
  readonly metrics: RawServiceMetrics;
  /** Plain-HTTP requests go to HTTPS: a certificate covers the host and the route allows it. */
  readonly redirect: boolean;
  /** HTTPS responses carry Strict-Transport-Security. */
  readonly hsts: boolean;
  /** A migration's split with a legacy upstream; null (the common case) costs one check. */
  readonly cutover: ActiveCutover | null;
}

/** A route's cut-over, resolved once per table like the route itself. */
export interface ActiveCutover {
  readonly split: CutoverSplit;
  /** The route as its legacy side: the legacy upstream's pool, its metrics label. */
  readonly legacy: ActiveRoute;
  /** Host header for the legacy upstream, or null to send the citizen's. */
  readonly legacyHost: string | null;
}

/**
 * Host name → ActiveRoute for the current table. Replaced whole on each update, so a request
 * sees either the old table or the new one, never half of each.
 */
export class RouteIndex {
  #byHost = new Map<string, ActiveRoute>();
  #challenges = new Map<string, string>();
  #version = -1;
  /** The internal file server that static routes are forwarded to, once it listens. */
  staticBackend: BackendState | null = null;

  /**
   * @param certs the router's certificates when it listens for HTTPS; null: no redirect, no HSTS
   *   (they would send citizens to a port nobody answers).
   */
  constructor(
    private readonly backends: BackendRegistry,
    private readonly metrics: MetricsRegistry,
    readonly certs: CertIndex | null = null,
  ) {}

  /** The key authorization for an ACME HTTP-01 token, when the table lists it. */
  challenge(token: string): string | undefined {
    return this.#challenges.get(token);
  }

  get version(): number {
    return this.#version;
  }

  lookup(host: string): ActiveRoute | undefined {
    return this.#byHost.get(host);
  }

  readonly #probeViews = new WeakMap<ActiveRoute, ActiveRoute>();

  /** The same route with the service's probe counters: what a platform probe is counted in. */
  probeView(active: ActiveRoute): ActiveRoute {
    let view = this.#probeViews.get(active);
    if (!view) {
      // Made on the first probe, so services never probed have no probe counters to report.
      view = { ...active, metrics: this.metrics.for(probeLabel(active.route.service)), cutover: null };
      this.#probeViews.set(active, view);
    }
    return view;
  }

  #table: RouteTable | null = null;

  /** Builds the index again from the last table (after the static file server came up). */
  refresh(): void {
    if (this.#table) this.apply(this.#table);
  }

  apply(table: RouteTable): void {
    this.#table = table;
    const states = this.backends.apply(table.routes.flatMap((r) => r.backends));
    const legacyState = this.backends.applyLegacy(
      table.routes.flatMap((r) =>
        r.cutover
          ? [{ url: r.cutover.legacyUrl, ...(r.cutover.legacyCa ? { ca: r.cutover.legacyCa } : {}) }]
          : [],
      ),
    );
    const certs = this.certs;
    certs?.apply(table.certificates ?? []);
    const next = new Map<string, ActiveRoute>();
    for (const route of table.routes) {
      const members =
        route.kind === 'static'
          ? this.staticBackend
            ? [this.staticBackend]
            : []
          : route.backends.map((b) => states.get(b.id)!);
      const pool = this.backends.newPool(members);
      // Decided once per table, so the plain-HTTP hot path reads one boolean.
      const secure = certs?.covers(route.hostname) ?? false;
      const redirect = secure && route.httpsRedirect !== false;
      const hsts = secure && route.hsts !== false;
      const c = route.cutover;
      const cutover: ActiveCutover | null = c
        ? {
            split: new CutoverSplit(c),
            legacy: {
              route: { ...route, kind: 'proxy', backends: [] },
              pool: this.backends.newPool([legacyState(c.legacyUrl, c.legacyCa)]),
              metrics: this.metrics.for(legacyLabel(route.service)),
              redirect,
              hsts,
              cutover: null,
            },
            legacyHost: c.legacyHost ?? null,
          }
        : null;
      next.set(route.hostname, {
        route,
        pool,
        metrics: this.metrics.for(route.service),
        redirect,
        hsts,
        cutover,
      });
    }
    this.#byHost = next;
    this.#challenges = new Map((table.acmeChallenges ?? []).map((c) => [c.token, c.keyAuthorization]));
    this.#version = table.version;
  }
}
