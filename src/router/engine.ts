import { BackendRegistry } from './balancer.ts';
import type { Log } from './log.ts';
import { MetricsRegistry } from './metrics.ts';
import type { ResolvedOptions } from './options.ts';
import { createPublicServer, type PublicServer } from './public-server.ts';
import { RouteIndex } from './route-index.ts';

/** The proxying half of a router: what runs in the router process, or in each cluster worker. */
export interface Engine {
  readonly index: RouteIndex;
  readonly metrics: MetricsRegistry;
  readonly backends: BackendRegistry;
  readonly server: PublicServer;
}

export function createEngine(o: ResolvedOptions, log: Log): Engine {
  const metrics = new MetricsRegistry();
  const backends = new BackendRegistry({
    maxSocketsPerBackend: o.maxSocketsPerBackend,
    connectTimeoutMs: o.connectTimeoutMs,
    passiveDownMs: o.passiveDownMs,
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
      trustForwarded: o.trustForwarded,
      proto: 'http',
    },
    index,
    backends,
    metrics,
    log,
  );
  return { index, metrics, backends, server };
}
