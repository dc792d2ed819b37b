/**
 * Parser for the heads of HTTP/1.x requests from clients. The router reads citizens' requests
 * itself (rather than through node:http) because it halves the CPU the router spends per
 * request (docs/decisions/007-router-process-model.md); in exchange it must be at least as
 * strict as Node's llhttp. Anything that two HTTP implementations could read differently (bare
 * CR or LF, space before a colon, folded lines, both or several lengths, codings other than
 * chunked) is refused, so no request can be smuggled past the router to a backend.
 */
import {
  cleanHead,
  connectionTokens,
  contentLength,
  isToken,
  namesFraming,
  trimOws,
} from './http1-common.ts';

/** A request the router will not forward, and the status it answers with. */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface RequestHead {
  method: string;
  /** Origin-form target (`/path?query`), or `*`; an absolute-form target is reduced to this. */
  target: string;
  http10: boolean;
  /** Header lines as received, `[name, value, …]`, and their lower-case names. */
  names: string[];
  values: string[];
  lower: string[];
  /** Host the request is for: the Host header, or the authority of an absolute-form target. */
  host: string;
  /** The target was absolute-form: its authority replaces the Host header upstream. */
  hostFromTarget: boolean;
  /** -1 when there is none. */
  contentLength: number;
  chunked: boolean;
  /** The client asked to close the connection after this exchange. */
  close: boolean;
  /** Upgrade protocol (`websocket`) when the client asked for one. */
  upgrade: string | null;
  expectContinue: boolean;
  /** Header names the Connection header listed: hop-by-hop for this request. */
  connectionExtra: Set<string> | null;
  /** X-GovHost-Probe, when present: the platform's probe key if the request is its probe. */
  probe: string | null;
}

// Methods are upper-case letters, `_` and `-`, as nginx reads them: any RFC 9110 token would
// let through `abcGET`, which no backend knows. The target may hold raw bytes above 0x7F, as
// nginx allows: old clients send unescaped Big5 or UTF-8 paths, and such bytes cannot split a
// request.
const REQUEST_LINE = /^([A-Z_-]+) ([\x21-\x7e\x80-\xff]+) HTTP\/(\d)\.(\d)$/;
const MAX_HEADERS = 100;

const CRLF2 = Buffer.from('\r\n\r\n');

/**
 * Finds the first request head in `buf` (skipping empty lines before it, RFC 9112 §2.2): its
 * text and the bytes after it, or null while incomplete. Throws 431 past `max` bytes.
 */
export function splitHead(buf: Buffer, max: number): { text: string; rest: Buffer | null } | null {
  let start = 0;
  while (buf.length - start >= 2 && buf[start] === 13 && buf[start + 1] === 10) start += 2;
  const end = buf.indexOf(CRLF2, start);
  if (end === -1 || end - start > max) {
    if (buf.length - start > max) throw new RequestError(431, 'the request head is too large');
    return null;
  }
  return {
    text: buf.toString('latin1', start, end),
    rest: buf.length > end + 4 ? buf.subarray(end + 4) : null,
  };
}

/** Reads a request head (the text before the empty line); throws RequestError when it is not acceptable. */
export function parseRequestHead(text: string): RequestHead {
  if (!cleanHead(text)) throw new RequestError(400, 'control characters in request head');
  const lines = text.split('\r\n');
  const m = REQUEST_LINE.exec(lines[0]!);
  if (!m) throw new RequestError(400, 'bad request line');
  if (m[3] !== '1' || (m[4] !== '0' && m[4] !== '1'))
    throw new RequestError(505, 'HTTP version not supported');
  if (lines.length - 1 > MAX_HEADERS) throw new RequestError(431, 'too many header lines');
  const head: RequestHead = {
    method: m[1]!,
    target: m[2]!,
    http10: m[4] === '0',
    names: [],
    values: [],
    lower: [],
    host: '',
    hostFromTarget: false,
    contentLength: -1,
    chunked: false,
    close: m[4] === '0',
    upgrade: null,
    expectContinue: false,
    connectionExtra: null,
    probe: null,
  };
  let hosts = 0;
  let transferEncoding: string | null = null;
  let upgrade: string | null = null;
  let connectionUpgrade = false;
  let closeAsked = false;
  let keepAliveAsked = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    // Also refuses obs-fold (a line starting with space) and space before the colon.
    if (!isToken(name)) throw new RequestError(400, 'bad header line');
    const value = trimOws(line, colon + 1);
    const lower = name.toLowerCase();
    head.names.push(name);
    head.values.push(value);
    head.lower.push(lower);
    switch (lower) {
      case 'host':
        hosts++;
        head.host = value;
        break;
      case 'content-length':
        head.contentLength = contentLength(value, head.contentLength);
        if (head.contentLength === -2) throw new RequestError(400, 'bad Content-Length');
        break;
      case 'transfer-encoding':
        transferEncoding = transferEncoding === null ? value : `${transferEncoding}, ${value}`;
        break;
      case 'connection': {
        const t = connectionTokens(value);
        if (t.close) closeAsked = true;
        if (t.keepAlive) keepAliveAsked = true;
        if (t.upgrade) connectionUpgrade = true;
        if (t.extra) head.connectionExtra = new Set([...(head.connectionExtra ?? []), ...t.extra]);
        break;
      }
      case 'upgrade':
        upgrade = value;
        break;
      case 'x-govhost-probe':
        head.probe = value;
        break;
      case 'expect':
        // Expect is an HTTP/1.1 header: an HTTP/1.0 request's is ignored (RFC 9110 §10.1.1).
        if (head.http10) break;
        if (value.toLowerCase() !== '100-continue') throw new RequestError(417, 'unsupported expectation');
        head.expectContinue = true;
        break;
    }
  }
  // `close` wins over `keep-alive`, whatever their order; HTTP/1.0 closes unless kept alive.
  head.close = closeAsked || (head.http10 && !keepAliveAsked);
  // Hop-by-hop removal of a header that frames the request or picks its route would let the
  // backend read the body as a request the router never saw (request smuggling).
  const framing = namesFraming(head.connectionExtra);
  if (framing !== null) throw new RequestError(400, `the Connection header names ${framing}`);
  if (transferEncoding !== null) {
    if (head.http10) throw new RequestError(400, 'Transfer-Encoding in HTTP/1.0');
    if (transferEncoding.trim().toLowerCase() !== 'chunked')
      throw new RequestError(501, 'only chunked is supported');
    if (head.contentLength !== -1) throw new RequestError(400, 'both Content-Length and Transfer-Encoding');
    head.chunked = true;
  }
  if (connectionUpgrade && upgrade !== null) head.upgrade = upgrade;
  if (head.target.charCodeAt(0) !== 47 /* / */) reduceTarget(head);
  if (!head.hostFromTarget && (hosts > 1 || (hosts === 0 && !head.http10))) {
    throw new RequestError(400, 'a request needs exactly one Host header');
  }
  return head;
}

/** Handles the other request-target forms (RFC 9112 §3.2): absolute-form and `*`. */
function reduceTarget(head: RequestHead): void {
  const t = head.target;
  if (t === '*') {
    if (head.method !== 'OPTIONS') throw new RequestError(400, '* is only for OPTIONS');
    return;
  }
  const m = /^https?:\/\/([^/?#@]+)([/?][^#]*)?$/i.exec(t);
  if (!m) throw new RequestError(head.method === 'CONNECT' ? 405 : 400, 'unsupported request target');
  head.host = m[1]!;
  head.hostFromTarget = true;
  const rest = m[2] ?? '/';
  head.target = rest.startsWith('?') ? `/${rest}` : rest;
}
