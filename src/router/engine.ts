import { randomBytes } from 'node:crypto';
import { type Network, parseNetwork } from '../platform/ip.ts';
import { BackendRegistry } from './balancer.ts';
import type { RequestRecord } from './context.ts';
import type { Log } from './log.ts';
import { MetricsRegistry } from './metrics.ts';
import type { ResolvedOptions } from './options.ts';
import { createPublicServer, type PublicServer } from './public-server.ts';
import { RouteIndex } from './route-index.ts';
import { createStaticServer, STATIC_KEY_HEADER, type StaticServer } from './static.ts';

/** The proxying half of a router: what runs in the router process, or in each cluster worker. */
export interface Engine {
  readonly index: RouteIndex;
  readonly metrics: MetricsRegistry;
  readonly backends: BackendRegistry;
  readonly server: PublicServer;
  readonly files: StaticServer;
  /** Starts the file server, then the public listener; resolves with the public port. */
  listen(): Promise<number>;
  close(graceMs: number): Promise<void>;
}

/** Wires the proxying parts together; nothing listens until `listen()`. */
export function createEngine(
  o: ResolvedOptions,
  log: Log,
  onRequest: ((r: RequestRecord) => void) | null = null,
): Engine {
  const metrics = new MetricsRegistry();
  const backends = new BackendRegistry({
    maxSocketsPerBackend: o.maxSocketsPerBackend,
    connectTimeoutMs: o.connectTimeoutMs,
    passiveDownMs: o.passiveDownMs,
    onBug: (err) => log.error({ err: err.stack }, 'response handling failed'),
  });
  const index = new RouteIndex(backends, metrics);
  const server = createPublicServer(
    {
      host: o.host,
      port: o.port,
      bodyLimit: o.bodyLimit,
      connectTimeoutMs: o.connectTimeoutMs,
      upstreamTimeoutMs: o.upstreamTimeoutMs,
      clientIdleTimeoutMs: o.clientIdleTimeoutMs,
      headersTimeoutMs: Math.min(o.clientIdleTimeoutMs, 30_000),
      trustedProxies: o.trustedProxies.map((p) => parseNetwork(p) as Network),
      proto: 'http',
    },
    index,
    backends,
    metrics,
    log,
  );
  // A fresh random key per process: only this router can use its file server.
  const key = randomBytes(24).toString('hex');
  server.ctx.staticKey = `${STATIC_KEY_HEADER}: ${key}\r\n`;
  server.ctx.probeKey = Buffer.from(o.probeKey, 'latin1');
  server.ctx.onRequest = onRequest;
  const files = createStaticServer(index, key);
  return {
    index,
    metrics,
    backends,
    server,
    files,
    listen: async () => {
      const url = await files.listen();
      index.staticBackend = backends.internal({ id: '(static files)', url });
      index.refresh();
      return server.listen();
    },
    close: async (graceMs) => {
      await server.close(graceMs);
      await files.close();
      index.staticBackend?.pool.destroy();
      backends.destroy();
    },
  };
}
