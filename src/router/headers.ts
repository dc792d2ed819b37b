import { HOP_BY_HOP } from './http1-common.ts';
import type { RequestHead } from './http1-request.ts';

/**
 * Header work shared by HTTP and websocket forwarding. Request headers go upstream in the
 * client's own spelling and order.
 */

/**
 * The host a request is for: its Host header without port, lower-case, without a final dot.
 * @example hostOf('eTax.IRD.localhost:8080') === 'etax.ird.localhost'
 */
export function hostOf(header: string | undefined): string {
  if (!header) return '';
  let end = header.length;
  if (header.charCodeAt(0) === 91 /* [ */) {
    const close = header.indexOf(']');
    end = close === -1 ? end : close + 1;
  } else {
    const colon = header.indexOf(':');
    if (colon !== -1) end = colon;
  }
  if (header.charCodeAt(end - 1) === 46 /* . */) end--;
  return (end === header.length ? header : header.slice(0, end)).toLowerCase();
}

export interface ForwardOptions {
  /** Keep X-Forwarded-Proto/Host/Port from the client: only behind a trusted load balancer. */
  trustForwarded: boolean;
  /** `http` or `https`: the scheme this router was reached on. */
  proto: string;
}

/** Where the request came in: the client's address and the port it connected to. */
export interface ClientInfo {
  readonly address: string;
  readonly localPort: number;
}

/** How the request body travels upstream. */
export enum BodyMode {
  None = 0,
  /** Content-Length, bytes as they come. */
  Length = 1,
  /** Chunked: the client's chunks are decoded and framed again. */
  Chunked = 2,
}

/**
 * The request head to send upstream, as one latin1 string: the client's request line and
 * headers minus hop-by-hop ones (and Expect: the router answers 100 Continue itself), plus
 * X-Forwarded-For (appended), -Proto, -Host and -Port. The parser has checked every byte of
 * the method, target and headers, so nothing here can split the head. For an upgrade,
 * `Connection: Upgrade` and the Upgrade header go through: the handshake is end-to-end.
 */
export function upstreamHead(
  h: RequestHead,
  client: ClientInfo,
  opts: ForwardOptions,
  body: BodyMode,
  upgrade: string | null,
  extra = '',
): string {
  let s = `${h.method} ${h.target} HTTP/1.1\r\n`;
  let xff: string | null = null;
  let proto: string | null = null;
  let fhost: string | null = null;
  let fport: string | null = null;
  const { names, values, lower } = h;
  const connectionExtra = h.connectionExtra;
  for (let i = 0; i < names.length; i++) {
    const l = lower[i]!;
    if (HOP_BY_HOP.has(l) || l === 'expect') continue;
    if (l.startsWith('x-forwarded-')) {
      const v = values[i]!;
      if (l === 'x-forwarded-for') xff = xff === null ? v : `${xff}, ${v}`;
      else if (l === 'x-forwarded-proto') proto ??= v;
      else if (l === 'x-forwarded-host') fhost ??= v;
      else if (l === 'x-forwarded-port') fport ??= v;
      else s += `${names[i]}: ${v}\r\n`;
      continue;
    }
    // The router's key for its file server is never taken from a client, and the platform's
    // probe key never reaches a backend (a service could otherwise learn it and hide requests).
    if (l === 'x-govhost-static-key' || l === 'x-govhost-probe') continue;
    if (l === 'host' && h.hostFromTarget) continue;
    if (connectionExtra?.has(l)) continue;
    s += `${names[i]}: ${values[i]}\r\n`;
  }
  if (h.hostFromTarget) s += `Host: ${h.host}\r\n`;
  s += `X-Forwarded-For: ${xff === null ? client.address : `${xff}, ${client.address}`}\r\n`;
  const trust = opts.trustForwarded;
  s += `X-Forwarded-Proto: ${trust && proto !== null ? proto : opts.proto}\r\n`;
  s += `X-Forwarded-Host: ${trust && fhost !== null ? fhost : h.host}\r\n`;
  s += `X-Forwarded-Port: ${trust && fport !== null ? fport : client.localPort}\r\n`;
  if (body === BodyMode.Chunked) s += 'Transfer-Encoding: chunked\r\n';
  if (upgrade !== null) s += `Connection: Upgrade\r\nUpgrade: ${upgrade}\r\n`;
  return `${s}${extra}\r\n`;
}
