/** Pieces shared by the router's HTTP/1.1 request and response parsers. */

// Meaningful for one connection only (RFC 9110 §7.6.1 and the older RFC 2616 list): never forwarded.
export const HOP_BY_HOP = new Set([
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
 * Headers that frame a message or choose its route. Hop-by-hop processing never removes or
 * alters them: a Connection header that names one is refused (docs/router.md).
 */
export const FRAMING = new Set(['content-length', 'transfer-encoding', 'host']);

/** The first framing header a Connection header's extra tokens name, or null. */
export function namesFraming(extra: ReadonlySet<string> | null): string | null {
  if (extra === null) return null;
  for (const t of extra) if (FRAMING.has(t)) return t;
  return null;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** An RFC 9110 token: what header names and methods are made of. */
export function isToken(s: string): boolean {
  return TOKEN.test(s);
}

/**
 * True when a message head holds no control characters but tab and CRLF line ends: this one
 * pass stands in for per-value checks, and stops bare CR or LF, which different parsers split
 * differently (the root of request smuggling).
 */
export function cleanHead(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 32) {
      if (c === 127) return false;
      continue;
    }
    if (c === 9) continue;
    if (c === 13 && text.charCodeAt(i + 1) === 10) {
      i++;
      continue;
    }
    return false;
  }
  return true;
}

/** Trims optional whitespace (SP, HTAB) around a header value. */
export function trimOws(s: string, from: number): string {
  let a = from;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return s.slice(a, b);
}

/** Parses a Content-Length value; a list of equal values is the only repeat allowed (RFC 9110 §8.6). */
export function contentLength(value: string, previous: number): number {
  let n = previous;
  for (const part of value.split(',')) {
    const v = part.trim();
    if (!/^\d{1,15}$/.test(v) || (n !== -1 && Number(v) !== n)) return -2;
    n = Number(v);
  }
  return n;
}

/** Names listed in a Connection header beyond the usual tokens: also hop-by-hop. */
export function connectionTokens(value: string): {
  close: boolean;
  keepAlive: boolean;
  upgrade: boolean;
  extra: Set<string> | null;
} {
  const out = { close: false, keepAlive: false, upgrade: false, extra: null as Set<string> | null };
  for (const part of value.split(',')) {
    const t = part.trim().toLowerCase();
    if (t === 'close') out.close = true;
    else if (t === 'keep-alive') out.keepAlive = true;
    else if (t === 'upgrade') out.upgrade = true;
    else if (t !== '') {
      out.extra ??= new Set();
      out.extra.add(t);
    }
  }
  return out;
}
