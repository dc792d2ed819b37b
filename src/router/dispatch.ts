import { answerChallenge, isChallenge } from './acme-challenge.ts';
import type { ClientConnection } from './client-conn.ts';
import { withHost } from './cutover.ts';
import { BodyMode, hostOf } from './headers.ts';
import type { RequestHead } from './http1-request.ts';
import { UNKNOWN_SERVICE } from './metrics.ts';
import { unknownHostDetail } from './pages.ts';
import { isProbeKey } from './probe-key.ts';
import { Exchange } from './proxy.ts';
import type { ActiveRoute } from './route-index.ts';
import { proxyUpgrade } from './websocket.ts';

/**
 * Sends a plain-HTTP request to the same address over HTTPS: 301 for GET and HEAD, 308 for the
 * rest (which keeps the method and body). The host is the route's own (checked when the table was
 * taken), never the client's spelling; the target was checked by the parser.
 */
function redirectToHttps(
  conn: ClientConnection,
  head: RequestHead,
  active: ActiveRoute,
  start: number,
  hasBody: boolean,
): void {
  const status = head.method === 'GET' || head.method === 'HEAD' ? 301 : 308;
  const path = head.target.startsWith('/') ? head.target : '/';
  const location = `https://${active.route.hostname}${conn.ctx.httpsPortSuffix}${path}`;
  conn.page(head, status, undefined, { metrics: active.metrics, service: active.route.service }, start, {
    close: hasBody,
    extra: `Location: ${location}\r\n`,
  });
}

/**
 * Decides what becomes of one request: the route is found by the request's own Host header
 * (never by the connection's first request), then it is refused with a page, tunnelled as a
 * websocket, or forwarded to a backend (the internal file server for static routes).
 */
export function dispatch(conn: ClientConnection, head: RequestHead): void {
  const ctx = conn.ctx;
  const start = performance.now();
  if (head.close || ctx.draining) conn.closeAfter = true;
  const hasBody = head.chunked || head.contentLength > 0;
  // ACME HTTP-01 challenges: answered by the router on plain HTTP, for any host, never redirected.
  if (!ctx.secure && isChallenge(head.target)) {
    answerChallenge(conn, head, start, hasBody);
    return;
  }
  const host = hostOf(head.host);
  const found = ctx.index.lookup(host);
  if (!found) {
    conn.page(head, 404, unknownHostDetail(host), { metrics: ctx.unknown, service: UNKNOWN_SERVICE }, start, {
      close: hasBody,
    });
    return;
  }
  // The platform's probe is counted apart from citizens' requests; a wrong key is a citizen's.
  const active =
    head.probe !== null && isProbeKey(head.probe, ctx.probeKey) ? ctx.index.probeView(found) : found;
  const route = active.route;
  if (active.redirect && ctx.httpsPortSuffix !== null) {
    redirectToHttps(conn, head, active, start, hasBody);
    return;
  }
  if (head.upgrade !== null && route.kind === 'proxy' && !hasBody) {
    const { socket, rest } = conn.handOver();
    proxyUpgrade(ctx, head, conn, socket, rest, active);
    return;
  }
  if (head.contentLength > ctx.opts.bodyLimit) {
    // Refused before a byte of it is read; the connection closes so it is never read.
    const detail = `The request body is larger than ${ctx.opts.bodyLimit} bytes.`;
    conn.page(head, 413, detail, { metrics: active.metrics, service: route.service }, start, { close: true });
    return;
  }
  if (route.kind === 'static' && head.method !== 'GET' && head.method !== 'HEAD') {
    const counter = { metrics: active.metrics, service: route.service };
    conn.page(head, 405, undefined, counter, start, { close: hasBody, extra: 'Allow: GET, HEAD\r\n' });
    return;
  }
  const mode = head.chunked ? BodyMode.Chunked : hasBody ? BodyMode.Length : BodyMode.None;
  const cutover = active.cutover;
  // A migration's share for the legacy service (decision 035); the platform's probes (whose view
  // has no cut-over) and websockets above stay with the new release.
  if (cutover !== null && !cutover.split.toNew(head, conn)) {
    const up = cutover.legacyHost === null ? head : withHost(head, cutover.legacyHost);
    conn.begin(new Exchange(conn, up, cutover.legacy, mode, start));
    return;
  }
  conn.begin(new Exchange(conn, head, active, mode, start));
}
