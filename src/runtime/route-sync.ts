import { isDeepStrictEqual } from 'node:util';
import type { FastifyBaseLogger } from 'fastify';
import { certificatesForRoutes, type SealedCertificate } from '../edge/certificates.logic.ts';
import { approvedHostnames } from '../edge/domains.logic.ts';
import { httpsForRoutes, type ServiceHttps } from '../edge/service-https.logic.ts';
import type { Db } from '../platform/database.ts';
import type { AcmeChallenge, Cutover, Route, RouteTable } from '../router/route-table.ts';
import type { RouterControl } from './driver.ts';
import type { ReleaseDriver } from './release-driver.ts';

const DRAIN_MAX_MS = 10_000;

/** An address as a URL's host: an IPv6 one (a pod's, on a v6 cluster) in brackets. */
const hostPart = (host: string) => (host.includes(':') ? `[${host}]` : host);

/** What the router is told about one service. */
export interface Serving {
  hostname: string;
  key: string;
  releaseId: string;
  kind: 'process' | 'static';
  staticRoot: string | null;
  /** The release's HTTP health endpoint, or `/` (what an outside probe asks for). */
  healthPath: string;
  /** Instances of the release leaving the routes (a scale down, a restart): drained, then stopped. */
  draining: Set<string>;
}

/**
 * What the edge adds to the table: certificates (keys sealed) and, per service id, the HTTPS
 * settings that are off and the approved custom host names (decisions 031 and 032).
 */
export interface EdgeRoutes {
  certificates: SealedCertificate[];
  https: ReadonlyMap<string, Partial<ServiceHttps>>;
  aliases: ReadonlyMap<string, readonly string[]>;
  /** Cut-overs by service id (decision 035): not the edge's, but they change routes the same way. */
  cutovers: ReadonlyMap<string, Cutover>;
}

/**
 * Keeps the router's table in step with the serving services: builds the table, pushes it (one
 * push at a time, coalesced), and drains instances before they stop.
 */
export class RouteSync {
  private routesVersion = 0;
  private pushQueued = false;
  private pushChain: Promise<void> = Promise.resolve();
  /**
   * Off until the orchestrator knows what serves: a table pushed while it is still re-attaching to
   * the instances a previous holder left (each re-attached one reports a change) would lack
   * services the router is serving, and citizens would get 404s in the middle of a takeover.
   */
  private enabled = false;
  /** Read from the store by refreshEdge (decision 031); none until then. */
  private edge: EdgeRoutes = { certificates: [], https: new Map(), aliases: new Map(), cutovers: new Map() };
  /** HTTP-01 challenges in flight (the edge's ACME job): every router answers them. */
  private acmeChallenges: AcmeChallenge[] = [];

  constructor(
    private readonly serving: ReadonlyMap<string, Serving>,
    private readonly driver: ReleaseDriver,
    private router: RouterControl,
    private readonly log: FastifyBaseLogger,
    /** Cut-overs with the legacy services they replace, by service id (decision 035), read with the edge. */
    private readonly cutovers?: () => Promise<Map<string, Cutover>>,
    /** The platform's own routes (the payment host to this server), read at each push. */
    private readonly platformRoutes?: () => Route[],
  ) {}

  /**
   * The route table: every serving service with the ready instances of its serving release. A
   * backend's id is its instance id, which the router counts requests in flight by (the drain).
   */
  routeTable(): RouteTable {
    const routes: Route[] = [];
    // A custom name equal to a platform name (possible only if GOVHOST_DOMAIN changed since its
    // approval) is left out: the router refuses a whole table that names a host twice.
    const platformNames = new Set([...this.serving.values()].map((s) => s.hostname));
    for (const [serviceId, s] of this.serving) {
      const https = this.edge.https.get(serviceId) ?? {};
      const aliases = this.edge.aliases.get(serviceId) ?? [];
      const hostnames = [s.hostname, ...aliases.filter((h) => !platformNames.has(h))];
      const cutover = this.edge.cutovers.get(serviceId);
      const extra = cutover ? { ...https, cutover } : https;
      if (s.kind === 'static') {
        for (const hostname of hostnames)
          routes.push({
            hostname,
            service: s.key,
            kind: 'static',
            backends: [],
            staticRoot: s.staticRoot ?? '',
            ...extra,
          });
        continue;
      }
      const backends = this.driver
        .instances(s.releaseId)
        .flatMap((i) =>
          i.state === 'ready' && i.endpoint && !s.draining.has(i.instanceId)
            ? [{ id: i.instanceId, url: `http://${hostPart(i.endpoint.host)}:${i.endpoint.port}` }]
            : [],
        );
      for (const hostname of hostnames)
        routes.push({ hostname, service: s.key, kind: 'proxy', backends, ...extra });
    }
    // The platform's own host names never name a service's host (a service's has three labels
    // or more, and custom names are refused the platform's), but the router would refuse the
    // whole table if one did: the service keeps it.
    const taken = new Set(routes.map((r) => r.hostname));
    for (const r of this.platformRoutes?.() ?? []) if (!taken.has(r.hostname)) routes.push(r);
    // A local count: the version a router gets comes from the store (decision 028), not a clock.
    this.routesVersion += 1;
    const { certificates } = this.edge;
    // Keys still sealed here: opened only where a table is handed to a router (storeVersioned).
    return {
      version: this.routesVersion,
      routes,
      ...(certificates.length > 0 ? { certificates } : {}),
      ...(this.acmeChallenges.length > 0 ? { acmeChallenges: this.acmeChallenges } : {}),
    };
  }

  /** Puts the ACME challenges in flight into the table and pushes it; resolves once the router has it. */
  setAcmeChallenges(challenges: AcmeChallenge[]): Promise<void> {
    this.acmeChallenges = challenges;
    return this.push();
  }

  /**
   * Reads the edge's certificates (keys sealed), HTTPS settings and approved custom host names
   * from the store; when they changed, uses them from now on and (with `push`) sends the table.
   * False when nothing changed or the store did not answer (the router keeps the last ones).
   */
  async refreshEdge(db: Db, push = true): Promise<boolean> {
    try {
      const edge: EdgeRoutes = {
        certificates: await certificatesForRoutes(db),
        https: await httpsForRoutes(db),
        aliases: await approvedHostnames(db),
        cutovers: this.cutovers ? await this.cutovers() : new Map(),
      };
      if (isDeepStrictEqual(edge, this.edge)) return false;
      this.edge = edge;
    } catch (err) {
      this.log.warn(
        { err: (err as Error).message },
        'could not read the edge settings; the router keeps the last ones',
      );
      return false;
    }
    if (push) await this.push();
    return true;
  }

  /** Points at a new router process (the old one died and was started again) and gives it the routes. */
  replaceRouter(router: RouterControl): Promise<void> {
    this.router = router;
    return this.push();
  }

  /** From now on the table is complete: pushes go to the router. */
  enable(): void {
    this.enabled = true;
  }

  /** Sends the current table to the router; resolves once the router has it. */
  push(): Promise<void> {
    if (!this.enabled) return this.pushChain;
    this.pushChain = this.pushChain.then(async () => {
      try {
        await this.router.putRoutes(this.routeTable());
      } catch (err) {
        // The periodic resync sends it again once the router answers.
        this.log.warn({ err: (err as Error).message }, 'router did not take the route table');
      }
    });
    return this.pushChain;
  }

  /** A push soon, once for any number of changes in the same tick. */
  schedulePush(): void {
    if (this.pushQueued) return;
    this.pushQueued = true;
    queueMicrotask(() => {
      this.pushQueued = false;
      void this.push();
    });
  }

  /** Waits until the router has no request in flight to these instances (bounded). */
  async drain(ids: string[]): Promise<void> {
    const deadline = Date.now() + DRAIN_MAX_MS;
    while (ids.length > 0 && Date.now() < deadline) {
      const inflight = await this.router.inflight().catch(() => ({}) as Record<string, number>);
      if (ids.every((id) => !inflight[id])) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
