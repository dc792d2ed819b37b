import { connect, type Socket } from 'node:net';
import type { ProxyContext } from './context.ts';
import { BodyMode, type ClientInfo, upstreamHead } from './headers.ts';
import type { RequestHead } from './http1-request.ts';
import { ResponseParser, type ResponseSink } from './http1-response.ts';
import { record } from './metrics.ts';
import { pageResponse } from './pages.ts';
import type { ActiveRoute } from './route-index.ts';

/** Open client sockets of upgraded connections, so shutdown can end them. */
export type TunnelSet = Set<Socket>;

function headBlock(status: number, message: string, headers: readonly string[], extra: string): string {
  let s = `HTTP/1.1 ${status} ${message}\r\n`;
  for (let i = 0; i < headers.length; i += 2) s += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${s}${extra}\r\n`;
}

/**
 * Passes an HTTP Upgrade (websocket) request through to a backend over a fresh connection
 * (after 101 it belongs to this tunnel alone); then bytes flow both ways untouched until
 * either side closes. Bytes the client sent after its request head are held until the backend
 * answers 101: were the upgrade declined, the backend would read them as another HTTP request
 * that the router never parsed.
 */
export function proxyUpgrade(
  ctx: ProxyContext,
  req: RequestHead,
  info: ClientInfo,
  client: Socket,
  head: Buffer,
  active: ActiveRoute,
): void {
  const tunnels = ctx.tunnels;
  const start = performance.now();
  const metrics = active.metrics;
  let recorded = false;
  let sent = 0;
  const done = (status: number) => {
    if (recorded) return;
    recorded = true;
    record(metrics, status, performance.now() - start, 0, 0);
    const service = active.route.service;
    ctx.onRequest?.({ service, method: req.method, target: req.target, status, bytesIn: 0, forwarded: sent });
  };
  client.on('error', () => {});
  const answer = (status: number) => {
    done(status);
    if (!client.destroyed) client.end(pageResponse(status, undefined, { close: true }));
  };
  if (active.route.kind !== 'proxy') {
    answer(404);
    return;
  }
  const picked = active.pool.pick();
  if (!picked) {
    answer(503);
    return;
  }
  const b = picked;

  b.inflight++;
  let handshaking = true;
  const endHandshake = () => {
    if (!handshaking) return;
    handshaking = false;
    clearTimeout(timer);
    b.inflight--;
    ctx.backends.released(b);
  };
  const up = connect({ host: b.pool.hostname, port: b.pool.port });
  up.setNoDelay(true);
  const timer = setTimeout(() => {
    up.destroy();
    if (handshaking) answer(504);
    endHandshake();
  }, ctx.opts.upstreamTimeoutMs);
  client.once('close', () => {
    if (!recorded) {
      metrics.aborted++;
      done(499);
    }
    endHandshake();
    up.destroy();
  });
  up.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ECONNREFUSED') active.pool.markDown(b);
    if (handshaking) answer(502);
    endHandshake();
  });
  up.on('close', () => {
    if (handshaking) answer(502);
    endHandshake();
    client.destroy();
  });

  const parser = new ResponseParser();
  const sink: ResponseSink = {
    onHead(p) {
      if (p.status === 101) {
        tunnel(p);
        return;
      }
      // The backend declined the upgrade (400, 404, …): relay its answer, then close.
      done(p.status);
      endHandshake();
      client.write(headBlock(p.status, p.statusMessage, p.headers, 'Connection: close\r\n'));
    },
    onBody(chunk) {
      client.write(chunk);
    },
    onComplete() {
      client.end();
      up.destroy();
    },
  };
  const onData = (d: Buffer) => {
    try {
      parser.execute(d);
    } catch {
      if (handshaking) answer(502);
      endHandshake();
      up.destroy();
    }
  };

  function tunnel(p: ResponseParser): void {
    up.off('data', onData);
    done(101);
    endHandshake();
    if (client.destroyed) {
      up.destroy();
      return;
    }
    // From here the connection is a tunnel: it counts as a websocket, not a request in flight.
    b.websockets++;
    tunnels.add(client);
    const upgradeTo = p.upgradeTo || (req.upgrade ?? 'websocket');
    client.write(
      headBlock(
        101,
        p.statusMessage || 'Switching Protocols',
        p.headers,
        `Connection: Upgrade\r\nUpgrade: ${upgradeTo}\r\n`,
      ),
    );
    if (p.rest && p.rest.length > 0) client.write(p.rest);
    if (head.length > 0) up.write(head);
    up.pipe(client);
    client.pipe(up);
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      tunnels.delete(client);
      b.websockets--;
      ctx.backends.released(b);
      client.destroy();
      up.destroy();
    };
    client.once('close', close);
    up.once('close', close);
  }

  up.once('connect', () => {
    parser.reset(sink, false, true);
    up.on('data', onData);
    sent = 1;
    up.write(upstreamHead(req, info, ctx.opts, BodyMode.None, req.upgrade ?? 'websocket'), 'latin1');
  });
}
