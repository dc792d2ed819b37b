import type { IncomingMessage } from 'node:http';

/**
 * Header work shared by HTTP and websocket forwarding. Request headers go upstream in the
 * client's own spelling and order, from Node's raw header list.
 */

// Meaningful for one connection only (RFC 9110 §7.6.1 and the older RFC 2616 list): never forwarded.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

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

/** Names listed in a Connection header beyond the usual tokens: also hop-by-hop (RFC 9110 §7.6.1). */
function extraConnectionTokens(value: string | undefined): Set<string> | null {
  if (value === undefined || value.length < 6) return null; // "close", "Upgrade", "keep-alive": the usual
  let extra: Set<string> | null = null;
  for (const part of value.split(',')) {
    const t = part.trim().toLowerCase();
    if (t === '' || t === 'keep-alive' || t === 'close' || t === 'upgrade') continue;
    extra ??= new Set();
    extra.add(t);
  }
  return extra;
}

function clientAddress(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

export interface ForwardOptions {
  /** Keep X-Forwarded-Proto/Host/Port from the client: only behind a trusted load balancer. */
  trustForwarded: boolean;
  /** `http` or `https`: the scheme this router was reached on. */
  proto: string;
}

/** How the request body travels upstream. */
export enum BodyMode {
  None = 0,
  /** Content-Length, bytes as they come. */
  Length = 1,
  /** Chunked: the client's chunks (already decoded by Node) are framed again. */
  Chunked = 2,
}

/**
 * The request head to send upstream, as one latin1 string: the client's request line and
 * headers minus hop-by-hop ones (and Expect: Node's server has already said 100 Continue),
 * plus X-Forwarded-For (appended), -Proto, -Host and -Port. Node's parser has checked every
 * byte of the client's method, target and headers, so nothing here can split the head.
 * For an upgrade, `Connection: Upgrade` and the Upgrade header go through: the handshake is
 * end-to-end by intent.
 */
export function requestHead(
  req: IncomingMessage,
  opts: ForwardOptions,
  body: BodyMode,
  upgrade: string | null,
): string {
  const h = req.headers;
  const extra = extraConnectionTokens(h.connection);
  const raw = req.rawHeaders;
  let s = `${req.method} ${req.url} HTTP/1.1\r\n`;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || lower === 'expect' || lower.startsWith('x-forwarded-')) continue;
    if (lower === 'content-length' && body !== BodyMode.Length) continue;
    if (extra?.has(lower)) continue;
    s += `${name}: ${raw[i + 1]}\r\n`;
  }
  const xff = h['x-forwarded-for'];
  const addr = clientAddress(req);
  s += `X-Forwarded-For: ${xff === undefined ? addr : `${xff}, ${addr}`}\r\n`;
  const trust = opts.trustForwarded;
  const proto = trust ? first(h['x-forwarded-proto']) : undefined;
  const fhost = trust ? first(h['x-forwarded-host']) : undefined;
  const fport = trust ? first(h['x-forwarded-port']) : undefined;
  s += `X-Forwarded-Proto: ${proto ?? opts.proto}\r\n`;
  s += `X-Forwarded-Host: ${fhost ?? h.host ?? ''}\r\n`;
  s += `X-Forwarded-Port: ${fport ?? req.socket.localPort ?? ''}\r\n`;
  if (body === BodyMode.Chunked) s += 'Transfer-Encoding: chunked\r\n';
  if (upgrade !== null) s += `Connection: Upgrade\r\nUpgrade: ${upgrade}\r\n`;
  return `${s}\r\n`;
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
