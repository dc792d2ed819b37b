import { legacyOrigin } from './cutover-validate.ts';
import type { Backend } from './route-table.ts';
import { UpstreamPool, type UpstreamTls } from './upstream.ts';

/** Tuning for connections to backends. */
export interface BackendOptions {
  /** Most open connections to one backend; beyond it requests wait for one to free up. */
  maxSocketsPerBackend: number;
  connectTimeoutMs: number;
  /** How long a backend that refused or dropped a connection is skipped. */
  passiveDownMs: number;
  /** Told about unexpected exceptions while handling backends' responses. */
  onBug?: (err: Error) => void;
}

// Idle backend connections live at most this long (less when the backend hints a shorter one).
const MAX_IDLE_MS = 30_000;

/** One backend instance as the router sees it: its address, connection pool and live counts. */
export class BackendState {
  readonly id: string;
  readonly url: string;
  readonly pool: UpstreamPool;
  /** Requests sent and not yet finished: the control plane drains an instance on this. */
  inflight = 0;
  /** Open websockets through this backend. */
  websockets = 0;
  /** Passive health: skipped until this time (ms since epoch) after a failed connection. */
  downUntil = 0;
  /** No longer in the route table; kept until its in-flight work ends. */
  retired = false;

  constructor(backend: Backend, opts: BackendOptions, tls: UpstreamTls | null = null) {
    this.id = backend.id;
    this.url = backend.url;
    const u = new URL(backend.url);
    const port = u.port === '' ? (u.protocol === 'https:' ? 443 : 80) : Number(u.port);
    this.pool = new UpstreamPool(u.hostname.replace(/^\[|\]$/g, ''), port, {
      maxSockets: opts.maxSocketsPerBackend,
      connectTimeoutMs: opts.connectTimeoutMs,
      maxIdleMs: MAX_IDLE_MS,
      tls,
    });
    this.pool.onBug = opts.onBug ?? null;
  }

  isUp(now: number): boolean {
    return this.downUntil <= now;
  }
}

/** The backends of one route, handed out round-robin with passive health checks. */
export class Pool {
  #next = 0;
  constructor(
    readonly backends: BackendState[],
    private readonly downMs: number,
  ) {}

  /**
   * The next backend that is not marked down, other than `exclude`. When every candidate is
   * marked down it still returns one: the marks are guesses from past failures, and a guess
   * must not turn into a 503 for a backend that has already come back.
   */
  pick(exclude?: BackendState): BackendState | null {
    const list = this.backends;
    const n = list.length;
    if (n === 0 || (n === 1 && list[0] === exclude)) return null;
    const now = Date.now();
    let fallback: BackendState | null = null;
    for (let i = 0; i < n; i++) {
      const b = list[this.#next]!;
      this.#next = this.#next + 1 === n ? 0 : this.#next + 1;
      if (b === exclude) continue;
      if (b.isUp(now)) return b;
      if (!fallback || b.downUntil < fallback.downUntil) fallback = b;
    }
    return fallback;
  }

  markDown(b: BackendState): void {
    b.downUntil = Date.now() + this.downMs;
  }
}

/** In-flight counts per backend id, as `GET /inflight` reports them. */
export type InflightReport = Record<string, { requests: number; websockets: number }>;

/**
 * All backends by id. A table update keeps the state (pool, counts, health marks) of every
 * backend that stays, and keeps a removed backend until its last request ends, so a drain can
 * watch it reach zero.
 */
export class BackendRegistry {
  readonly #byId = new Map<string, BackendState>();
  /** Legacy upstreams of cut-overs, by URL and CA: kept apart from instances (not in /inflight). */
  #legacy = new Map<string, BackendState>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(private readonly opts: BackendOptions) {
    // One timer for all pools, rather than one per idle connection.
    this.#sweeper = setInterval(() => {
      const now = Date.now();
      for (const b of this.#byId.values()) b.pool.sweep(now);
      for (const b of this.#legacy.values()) b.pool.sweep(now);
    }, 1000);
    this.#sweeper.unref();
  }

  /**
   * A backend of the router's own (the static file server): never retired by a table, and
   * left out of /inflight, which is about tenants' instances.
   */
  internal(backend: Backend): BackendState {
    return new BackendState(backend, this.opts);
  }

  /** Makes `backends` the current set, returning the state object for each. */
  apply(wanted: Backend[]): Map<string, BackendState> {
    const current = new Map<string, BackendState>();
    for (const b of wanted) {
      if (current.has(b.id)) continue;
      const old = this.#byId.get(b.id);
      if (old && old.url === b.url && !old.retired) {
        current.set(b.id, old);
      } else {
        if (old) this.#retire(old);
        current.set(b.id, new BackendState(b, this.opts));
      }
    }
    for (const old of this.#byId.values()) {
      if (!current.has(old.id) && !old.retired) this.#retire(old);
    }
    for (const [id, state] of current) this.#byId.set(id, state);
    return current;
  }

  /**
   * The legacy upstreams the table's cut-overs name, each kept (pool, health marks) while a table
   * names it with the same CA; one no longer named is closed once its requests end.
   */
  applyLegacy(wanted: { url: string; ca?: string }[]): (url: string, ca?: string) => BackendState {
    const next = new Map<string, BackendState>();
    for (const w of wanted) {
      const key = `${w.url}\n${w.ca ?? ''}`;
      if (next.has(key)) continue;
      const old = this.#legacy.get(key);
      if (old) {
        next.set(key, old);
        continue;
      }
      const origin = legacyOrigin(w.url)!;
      const tls = origin.tls ? { servername: origin.host, ...(w.ca ? { ca: w.ca } : {}) } : null;
      next.set(key, new BackendState({ id: `legacy ${w.url}`, url: w.url }, this.opts, tls));
    }
    for (const [key, old] of this.#legacy) {
      if (next.has(key)) continue;
      old.retired = true;
      if (old.inflight === 0 && old.websockets === 0) old.pool.destroy();
    }
    this.#legacy = next;
    return (url, ca) => next.get(`${url}\n${ca ?? ''}`)!;
  }

  newPool(states: BackendState[]): Pool {
    return new Pool(states, this.opts.passiveDownMs);
  }

  /** Call when a request or websocket on `b` ends. */
  released(b: BackendState): void {
    if (b.retired && b.inflight === 0 && b.websockets === 0) {
      // A legacy upstream is never in #byId, so this only closes its pool.
      b.pool.destroy();
      if (this.#byId.get(b.id) === b) this.#byId.delete(b.id);
    }
  }

  inflight(): InflightReport {
    const out: InflightReport = {};
    for (const b of this.#byId.values()) out[b.id] = { requests: b.inflight, websockets: b.websockets };
    return out;
  }

  destroy(): void {
    clearInterval(this.#sweeper);
    for (const b of this.#byId.values()) b.pool.destroy();
    for (const b of this.#legacy.values()) b.pool.destroy();
  }

  #retire(b: BackendState): void {
    b.retired = true;
    // A replaced address under the same id: its old counts stop mattering to /inflight.
    if (b.inflight === 0 && b.websockets === 0) {
      b.pool.destroy();
      if (this.#byId.get(b.id) === b) this.#byId.delete(b.id);
    }
  }
}
