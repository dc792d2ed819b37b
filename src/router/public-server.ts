import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { BackendRegistry } from './balancer.ts';
import { hostOf } from './headers.ts';
import type { Log } from './log.ts';
import { type MetricsRegistry, UNKNOWN_SERVICE } from './metrics.ts';
import { rawPage, sendPage, unknownHostDetail } from './pages.ts';
import { type ProxyContext, type ProxyOptions, proxyRequest, recordNow } from './proxy.ts';
import type { RouteIndex } from './route-index.ts';
import { serveStatic } from './static.ts';
import { proxyUpgrade, type TunnelSet } from './websocket.ts';

/** Options of the citizen-facing listener. */
export interface PublicServerOptions extends ProxyOptions {
  host: string;
  port: number;
  /** A client connection with no traffic for this long is closed (also the keep-alive idle time). */
  clientIdleTimeoutMs: number;
}

export interface PublicServer {
  readonly server: Server;
  listen(): Promise<number>;
  /** Stops accepting, lets requests in flight finish for up to `graceMs`, then cuts the rest. */
  close(graceMs: number): Promise<void>;
}

/**
 * The listener citizens reach: picks the route for each request by its own Host header (so
 * one keep-alive connection from a load balancer may carry requests for many hosts) and hands
 * it to the proxy, the static server or the websocket tunnel.
 */
export function createPublicServer(
  opts: PublicServerOptions,
  index: RouteIndex,
  backends: BackendRegistry,
  metrics: MetricsRegistry,
  log: Log,
): PublicServer {
  const ctx: ProxyContext = { backends, opts, draining: false };
  const tunnels: TunnelSet = new Set();
  const unknown = metrics.for(UNKNOWN_SERVICE);
  let active = 0;
  let idleWaiter: (() => void) | null = null;

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    active++;
    res.once('close', () => {
      active--;
      if (active === 0 && idleWaiter) idleWaiter();
    });
    const host = hostOf(req.headers.host);
    const route = index.lookup(host);
    if (route === undefined) {
      recordNow(unknown, res, performance.now());
      sendPage(res, 404, unknownHostDetail(host), ctx.draining);
    } else if (route.route.kind === 'static') {
      serveStatic(req, res, route);
    } else {
      proxyRequest(ctx, req, res, route);
    }
  };

  const server = createServer(
    {
      keepAliveTimeout: opts.clientIdleTimeoutMs,
      // Slow-header clients are cut off, but never before the keep-alive idle time has passed.
      headersTimeout: opts.clientIdleTimeoutMs + 1000,
      // Whole-request time: generous, a 10 MiB upload over a slow line takes a while.
      requestTimeout: Math.max(300_000, opts.upstreamTimeoutMs),
      noDelay: true,
    },
    onRequest,
  );
  server.timeout = opts.clientIdleTimeoutMs;
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const route = index.lookup(hostOf(req.headers.host));
    if (route === undefined) {
      socket.on('error', () => {});
      socket.end(rawPage(404, unknownHostDetail(hostOf(req.headers.host))));
      return;
    }
    proxyUpgrade(ctx, tunnels, req, socket, head, route);
  });
  // A broken client (bad bytes, reset) costs its own connection, never the process.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (socket.writable && err.code !== 'ECONNRESET' && err.code !== 'EPIPE') {
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      socket.end(`HTTP/1.1 ${status} Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    } else {
      socket.destroy();
    }
  });

  return {
    server,
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
      // Idle keep-alive connections go now; busy ones answer with Connection: close.
      server.closeIdleConnections();
      if (active > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, graceMs);
          idleWaiter = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        if (active > 0) log.warn({ active }, 'grace period over: cutting requests still in flight');
      }
      server.closeAllConnections();
      for (const t of tunnels) t.destroy();
      await closed;
    },
  };
}
