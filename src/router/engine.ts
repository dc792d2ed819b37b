import { randomBytes } from 'node:crypto';
import { type Network, parseNetwork } from '../platform/ip.ts';
import { BackendRegistry } from './balancer.ts';
import type { RequestRecord } from './context.ts';
import type { Log } from './log.ts';
import { MetricsRegistry } from './metrics.ts';
import type { ResolvedOptions } from './options.ts';
import { PLATFORM_KEY_HEADER } from './probe-key.ts';
import { createPublicServer, type PublicServer } from './public-server.ts';
import { RouteIndex } from './route-index.ts';
import { createStaticServer, STATIC_KEY_HEADER, type StaticServer } from './static.ts';
import { CertIndex } from './tls-sni.ts';

/** The proxying half of a router: what runs in the router process, or in each cluster worker. */
export interface Engine {
  readonly index: RouteIndex;
  readonly metrics: MetricsRegistry;
  readonly backends: BackendRegistry;
  readonly server: PublicServer;
  /** The HTTPS listener, when the router has an HTTPS port. */
  readonly secure: PublicServer | null;
  readonly files: StaticServer;
  /** Starts the file server, then the public listeners; resolves with their ports. */
  listen(): Promise<{ port: number; httpsPort: number | null }>;
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
  const certs = o.httpsPort === null ? null : new CertIndex(log);
  const index = new RouteIndex(backends, metrics, certs);
  const proxyOptions = {
    host: o.host,
    bodyLimit: o.bodyLimit,
    connectTimeoutMs: o.connectTimeoutMs,
    upstreamTimeoutMs: o.upstreamTimeoutMs,
    clientIdleTimeoutMs: o.clientIdleTimeoutMs,
    headersTimeoutMs: Math.min(o.clientIdleTimeoutMs, 30_000),
    trustedProxies: o.trustedProxies.map((p) => parseNetwork(p) as Network),
  };
  const server = createPublicServer(
    { ...proxyOptions, port: o.port, proto: 'http', sni: null },
    index,
    backends,
    metrics,
    log,
  );
  // X-Forwarded-Proto comes from the listener a request arrived on (a trusted proxy's own is kept).
  const secure =
    certs === null
      ? null
      : createPublicServer(
          { ...proxyOptions, port: o.httpsPort as number, proto: 'https', sni: certs },
          index,
          backends,
          metrics,
          log,
        );
  // A fresh random key per process: only this router can use its file server.
  const key = randomBytes(24).toString('hex');
  for (const s of secure ? [server, secure] : [server]) {
    s.ctx.staticKey = `${STATIC_KEY_HEADER}: ${key}\r\n`;
    s.ctx.probeKey = Buffer.from(o.probeKey, 'latin1');
    s.ctx.platformKey = `${PLATFORM_KEY_HEADER}: ${o.platformKey}\r\n`;
    s.ctx.onRequest = onRequest;
  }
  const files = createStaticServer(index, key);
  return {
    index,
    metrics,
    backends,
    server,
    secure,
    files,
    listen: async () => {
      const url = await files.listen();
      index.staticBackend = backends.internal({ id: '(static files)', url });
      index.refresh();
      // HTTPS first: the plain listener's redirects name its port.
      const httpsPort = secure ? await secure.listen() : null;
      if (httpsPort !== null) server.ctx.httpsPortSuffix = httpsPort === 443 ? '' : `:${httpsPort}`;
      return { port: await server.listen(), httpsPort };
    },
    close: async (graceMs) => {
      await Promise.all([server.close(graceMs), secure?.close(graceMs)]);
      await files.close();
      index.staticBackend?.pool.destroy();
      backends.destroy();
    },
  };
}
