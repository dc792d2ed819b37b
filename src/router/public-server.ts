import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:net';
import type { BackendRegistry } from './balancer.ts';
import { ClientConnection } from './client-conn.ts';
import type { ProxyContext, ProxyOptions } from './context.ts';
import type { Log } from './log.ts';
import { type MetricsRegistry, UNKNOWN_SERVICE } from './metrics.ts';
import type { RouteIndex } from './route-index.ts';

/** Options of the citizen-facing listener. */
export interface PublicServerOptions extends ProxyOptions {
  host: string;
  port: number;
}

export interface PublicServer {
  readonly server: Server;
  readonly ctx: ProxyContext;
  listen(): Promise<number>;
  /** Stops accepting, lets requests in flight finish for up to `graceMs`, then cuts the rest. */
  close(graceMs: number): Promise<void>;
}

/**
 * The listener citizens reach. Each connection is read by a ClientConnection, which routes every
 * request by its own Host header, so one keep-alive connection from a load balancer may carry
 * requests for many hosts.
 */
export function createPublicServer(
  opts: PublicServerOptions,
  index: RouteIndex,
  backends: BackendRegistry,
  metrics: MetricsRegistry,
  log: Log,
): PublicServer {
  const ctx: ProxyContext = {
    index,
    backends,
    opts,
    unknown: metrics.for(UNKNOWN_SERVICE),
    connections: new Set(),
    onConnectionClosed: null,
    tunnels: new Set(),
    log,
    staticKey: '',
    probeKey: Buffer.alloc(0),
    draining: false,
    onRequest: null,
  };
  // Half-open allowed: a client may send its request and shut its side (HTTP/1.0 tools do);
  // it still gets its answer, and the connection closes after.
  const server = createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
    if (ctx.draining) {
      socket.destroy();
      return;
    }
    ctx.connections.add(new ClientConnection(ctx, socket));
  });
  // Accept errors (EMFILE and the like) must not end the process; they are logged and retried.
  server.on('error', (err) => log.error({ err: err.message }, 'public listener error'));

  return {
    server,
    ctx,
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(opts.port, opts.host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      }),
    close: async (graceMs) => {
      ctx.draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Idle keep-alive connections close now; busy ones after their response.
      for (const c of ctx.connections) c.drain();
      if (ctx.connections.size > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, graceMs);
          ctx.onConnectionClosed = () => {
            if (ctx.connections.size > 0) return;
            clearTimeout(timer);
            resolve();
          };
        });
      }
      if (ctx.connections.size > 0) {
        log.warn(
          { connections: ctx.connections.size },
          'grace period over: cutting requests still in flight',
        );
        for (const c of ctx.connections) c.abort();
      }
      for (const t of ctx.tunnels) t.destroy();
      await closed;
    },
  };
}
