import { inNetwork, type Network, parseIp } from '../platform/ip.ts';
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
  /**
   * Peers (load balancers) whose X-Forwarded-*, Forwarded and X-Real-IP headers are extended;
   * from anyone else they are replaced or dropped. Empty: nobody is trusted.
   */
  trustedProxies: readonly Network[];
  /** `http` or `https`: the scheme this router was reached on. */
  proto: string;
}

/** Where the request came in: the client's address and the port it connected to. */
export interface ClientInfo {
  readonly address: string;
  readonly localPort: number;
  /** The peer is one of the trusted proxies. */
  readonly trusted: boolean;
}

/** True when `address` lies in one of `nets`. */
export function isTrustedPeer(address: string, nets: readonly Network[]): boolean {
  if (nets.length === 0) return false;
  const ip = parseIp(address);
  return ip !== null && nets.some((n) => inNetwork(ip, n));
}

/** How the request body travels upstream. */
export enum BodyMode {
  None = 0,
  /** Content-Length, bytes as they come. */
  Length = 1,
  /** Chunked: the client's chunks are decoded and framed again. */
  Chunked = 2,
}

/** A node for a Forwarded `for=` parameter (RFC 7239 §6): IPv6 quoted in brackets. */
function forwardedNode(address: string): string {
  return address.includes(':') ? `"[${address}]"` : address;
}

/**
 * The request head to send upstream, as one latin1 string: the client's request line and
 * headers, less what is meant for this hop only (hop-by-hop headers, those the Connection
 * header names, Expect: the router answers 100 Continue itself) and less names with `_` (which
 * some servers read as `-`); then the forwarding headers. From a trusted proxy X-Forwarded-For
 * and Forwarded are extended with the peer's address and X-Forwarded-Proto/Host/Port kept; from
 * anyone else they are the router's own, and Forwarded, X-Real-IP and other X-Forwarded-*
 * headers are dropped. The parser has checked every byte of the method, target and headers, and
 * refused a Connection header naming a framing header, so nothing here can split the head or
 * change its framing. For an upgrade, `Connection: Upgrade` and the Upgrade header go through:
 * the handshake is end-to-end.
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
  let fwd: string | null = null;
  let proto: string | null = null;
  let fhost: string | null = null;
  let fport: string | null = null;
  const trusted = client.trusted;
  const { names, values, lower } = h;
  const connectionExtra = h.connectionExtra;
  for (let i = 0; i < names.length; i++) {
    const l = lower[i]!;
    if (HOP_BY_HOP.has(l) || l === 'expect' || l.includes('_')) continue;
    if (connectionExtra?.has(l)) continue;
    // The router's keys for its file server and for the platform are never taken from a client,
    // and the platform's probe key never reaches a backend (a service could otherwise learn it).
    if (l === 'x-govhost-static-key' || l === 'x-govhost-probe' || l === 'x-govhost-router-key') continue;
    if (l === 'host' && h.hostFromTarget) continue;
    if (l.startsWith('x-forwarded-') || l === 'forwarded' || l === 'x-real-ip') {
      if (!trusted) continue;
      const v = values[i]!;
      if (l === 'x-forwarded-for') xff = xff === null ? v : `${xff}, ${v}`;
      else if (l === 'forwarded') fwd = fwd === null ? v : `${fwd}, ${v}`;
      else if (l === 'x-forwarded-proto') proto ??= v;
      else if (l === 'x-forwarded-host') fhost ??= v;
      else if (l === 'x-forwarded-port') fport ??= v;
      else s += `${names[i]}: ${v}\r\n`;
      continue;
    }
    s += `${names[i]}: ${values[i]}\r\n`;
  }
  if (h.hostFromTarget) s += `Host: ${h.host}\r\n`;
  const address = client.address;
  s += `X-Forwarded-For: ${xff === null ? address : `${xff}, ${address}`}\r\n`;
  s += `X-Forwarded-Proto: ${proto ?? opts.proto}\r\n`;
  s += `X-Forwarded-Host: ${fhost ?? h.host}\r\n`;
  s += `X-Forwarded-Port: ${fport ?? client.localPort}\r\n`;
  if (fwd !== null) s += `Forwarded: ${fwd}, for=${forwardedNode(address)}\r\n`;
  if (body === BodyMode.Chunked) s += 'Transfer-Encoding: chunked\r\n';
  if (upgrade !== null) s += `Connection: Upgrade\r\nUpgrade: ${upgrade}\r\n`;
  return `${s}${extra}\r\n`;
}
