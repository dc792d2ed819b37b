import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TS_NODE_ARGS } from '../platform/ts-loader.ts';
import type { RawServiceMetrics } from '../router/metrics.ts';
import { platformKeyFor, probeKeyFor } from '../router/probe-key.ts';
import type { RouteTable } from '../router/route-table.ts';
import type { RouterControl } from './driver.ts';

const ROUTER_MAIN = fileURLToPath(new URL('../router/main.ts', import.meta.url));
const START_TIMEOUT_MS = 15_000;

interface RouterInfo {
  pid: number;
  port: number;
  adminPort: number;
  /** The trusted proxies it was started with: a router started with others is not adopted. */
  trustedProxies?: string;
  /** GOVHOST_ROUTER_HTTPS_PORT as it was started with ('' for none): another one is not adopted. */
  httpsPort?: string;
  /** The port its HTTPS listener got (null: none); absent in files of routers started before it was kept. */
  httpsListenPort?: number | null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Talks to the router's admin API on loopback. */
export class RouterClient implements RouterControl {
  constructor(
    readonly info: RouterInfo,
    private readonly token: string,
  ) {}

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`http://127.0.0.1:${this.info.adminPort}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(5000),
    });
    const text = await res.text();
    // 409: the router already has a newer table (sent by us a moment ago): nothing to do.
    if (!res.ok && res.status !== 409)
      throw new Error(`router admin ${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  /** What the router adds to requests for the platform's own routes (probe-key.ts). */
  get platformKey(): string {
    return platformKeyFor(this.token);
  }

  /** The router listens for HTTPS (it was started with GOVHOST_ROUTER_HTTPS_PORT). */
  get servesHttps(): boolean {
    return (this.info.httpsPort ?? '') !== '';
  }

  /**
   * The port the router's HTTPS listener has, or null when it has none: where the platform's own
   * HTTPS requests to hosted services go (payment webhooks, decision 051).
   */
  get httpsListenPort(): number | null {
    if (this.info.httpsListenPort !== undefined) return this.info.httpsListenPort;
    // A router adopted from a file written before the port was kept: the port it was asked for.
    const asked = Number(this.info.httpsPort || 0);
    return asked > 0 ? asked : null;
  }

  /** What the platform's probes carry so this router counts them apart from citizens' requests. */
  get probeKey(): string {
    return probeKeyFor(this.token);
  }

  async putRoutes(table: RouteTable): Promise<void> {
    await this.call('PUT', '/routes', table);
  }

  /** Like putRoutes; the router's own version when it refused the table as older than its own. */
  async putRoutesHeld(table: RouteTable): Promise<number | null> {
    const body = (await this.call('PUT', '/routes', table)) as { code?: string; currentVersion?: number };
    return body?.code === 'GOVHOST_ROUTE_TABLE_STALE' && typeof body.currentVersion === 'number'
      ? body.currentVersion
      : null;
  }

  async inflight(): Promise<Record<string, number>> {
    const body = (await this.call('GET', '/inflight')) as {
      backends: Record<string, { requests: number; websockets: number }>;
    };
    return Object.fromEntries(
      Object.entries(body.backends).map(([id, n]) => [id, n.requests + n.websockets]),
    );
  }

  /** True while the router's process exists (it may still be too busy to answer). */
  processAlive(): boolean {
    return alive(this.info.pid);
  }

  async healthy(): Promise<boolean> {
    return (await this.unhealthy()) === null;
  }

  /** Why the router does not answer its health check (a timeout, a refused connection), or null. */
  async unhealthy(): Promise<string | null> {
    try {
      await this.call('GET', '/healthz');
      return null;
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      return [e.message, e.cause?.code ?? e.cause?.message].filter(Boolean).join(': ');
    }
  }

  metrics(): Promise<unknown> {
    return this.call('GET', '/metrics');
  }

  /** Cumulative counters per service label since the router started (buckets on BUCKETS_MS). */
  async rawMetrics(): Promise<Record<string, RawServiceMetrics>> {
    const body = (await this.call('GET', '/metrics?raw=1')) as {
      services: Record<string, RawServiceMetrics>;
    };
    return body.services;
  }
}

/**
 * The router runs as its own process so that it keeps serving while the control plane restarts.
 * A router left running by an earlier control plane is adopted; otherwise one is started.
 */
export async function ensureRouter(opts: {
  dataDir: string;
  host: string;
  port: number;
  adminPort: number;
  bodyLimit?: number;
  trustedProxies?: readonly string[];
}): Promise<{ client: RouterClient; adopted: boolean; stop(): Promise<void> }> {
  const dir = join(opts.dataDir, 'router');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tokenFile = join(dir, 'admin.token');
  if (!existsSync(tokenFile))
    writeFileSync(tokenFile, randomBytes(24).toString('base64url'), { mode: 0o600 });
  const token = readFileSync(tokenFile, 'utf8').trim();
  const infoFile = join(dir, 'router.json');
  const trustedProxies = (opts.trustedProxies ?? []).join(',');
  // The router reads its HTTPS port and state key from the environment it inherits (below).
  const httpsPort = process.env.GOVHOST_ROUTER_HTTPS_PORT ?? '';

  const stop = async (pid: number) => {
    if (!alive(pid)) return;
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 5000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  };

  if (existsSync(infoFile)) {
    const info = JSON.parse(readFileSync(infoFile, 'utf8')) as RouterInfo;
    const client = new RouterClient(info, token);
    const sameSettings =
      (opts.port === 0 || opts.port === info.port) &&
      (opts.adminPort === 0 || opts.adminPort === info.adminPort) &&
      (info.trustedProxies ?? '') === trustedProxies &&
      (info.httpsPort ?? '') === httpsPort;
    if (alive(info.pid) && (await client.healthy())) {
      if (sameSettings) return { client, adopted: true, stop: () => stop(info.pid) };
      await stop(info.pid);
    }
  }

  const logFile = join(dir, 'router.log');
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...TS_NODE_ARGS, ROUTER_MAIN], {
    detached: true,
    stdio: ['ignore', out, out],
    env: {
      ...process.env,
      GOVHOST_ROUTER_HOST: opts.host,
      GOVHOST_ROUTER_PORT: String(opts.port),
      GOVHOST_ROUTER_ADMIN_PORT: String(opts.adminPort),
      GOVHOST_ROUTER_STATE: join(dir, 'routes.json'),
      GOVHOST_ROUTER_ADMIN_TOKEN: token,
      GOVHOST_ROUTER_TRUSTED_PROXIES: trustedProxies,
      ...(opts.bodyLimit ? { GOVHOST_ROUTER_BODY_LIMIT: String(opts.bodyLimit) } : {}),
    },
  });
  child.unref();
  const pid = child.pid;
  if (!pid) throw new Error('could not start the router process');
  const startedAt = readFileSync(logFile, 'utf8').length;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const lines = readFileSync(logFile, 'utf8').slice(startedAt).split('\n');
    const ready = lines.map((l) => l.trim()).find((l) => l.startsWith('{') && l.includes('router ready'));
    if (ready) {
      const ports = JSON.parse(ready) as { port: number; adminPort: number; httpsPort: number | null };
      const info: RouterInfo = {
        pid,
        port: ports.port,
        adminPort: ports.adminPort,
        trustedProxies,
        httpsPort,
        httpsListenPort: ports.httpsPort ?? null,
      };
      writeFileSync(infoFile, JSON.stringify(info));
      return { client: new RouterClient(info, token), adopted: false, stop: () => stop(pid) };
    }
    if (!alive(pid))
      throw new Error(`the router exited at start; see ${logFile}:\n${lines.slice(-10).join('\n')}`);
    if (Date.now() > deadline) {
      await stop(pid);
      throw new Error(`the router did not start within ${START_TIMEOUT_MS / 1000} s; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
