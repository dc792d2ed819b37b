import type { AddressInfo, Socket } from 'node:net';
import { createServer, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { BackendRegistry } from './balancer.ts';
import { ClientConnection } from './client-conn.ts';
import type { ProxyContext, ProxyOptions } from './context.ts';
import type { Log } from './log.ts';
import { type MetricsRegistry, UNKNOWN_SERVICE } from './metrics.ts';
import type { RouteIndex } from './route-index.ts';
import { type CertIndex, TLS_CIPHERS, TLS_MIN_VERSION } from './tls-sni.ts';

/** Options of the citizen-facing listener. */
export interface PublicServerOptions extends ProxyOptions {
  host: string;
  port: number;
  /** Terminate TLS with these certificates (chosen by SNI); null: plain HTTP. */
  sni: CertIndex | null;
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
    platformKey: '',
    draining: false,
    onRequest: null,
    secure: opts.sni !== null,
    httpsPortSuffix: null,
  };
  const accept = (socket: Socket) => {
    if (ctx.draining) {
      socket.destroy();
      return;
    }
    ctx.connections.add(new ClientConnection(ctx, socket));
  };
  // Half-open allowed: a client may send its request and shut its side (HTTP/1.0 tools do);
  // it still gets its answer, and the connection closes after.
  const sni = opts.sni;
  // TCP sockets under the TLS listener (empty for plain HTTP), see below.
  const raw = new Set<Socket>();
  let server: Server;
  if (sni === null) {
    server = createServer({ noDelay: true, allowHalfOpen: true }, accept);
  } else {
    // No certificate of its own: a handshake without SNI, or for a name no certificate covers,
    // fails rather than showing another department's certificate (decision 030).
    const tlsServer = createTlsServer(
      {
        allowHalfOpen: true,
        minVersion: TLS_MIN_VERSION,
        ciphers: TLS_CIPHERS,
        handshakeTimeout: Math.min(opts.headersTimeoutMs, 10_000),
        SNICallback: (name, cb) => {
          const context = sni.context(name);
          if (context) cb(null, context);
          else cb(new Error(`no certificate for ${name}`));
        },
      },
      (socket) => {
        socket.setNoDelay(true);
        accept(socket);
      },
    );
    // Failed handshakes (scanners, unknown names) are the client's business, not a log line each.
    tlsServer.on('tlsClientError', () => {});
    // A client that hangs up right after its Finished can leave the TCP socket open under a
    // TLS socket that never reached the router's code: shutdown cuts those itself.
    tlsServer.on('connection', (s: Socket) => {
      raw.add(s);
      s.once('close', () => raw.delete(s));
    });
    server = tlsServer;
  }
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
      for (const s of raw) s.destroy();
      await closed;
    },
  };
}
