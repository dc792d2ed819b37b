import {
  cleanHead,
  connectionTokens,
  contentLength,
  HOP_BY_HOP,
  isToken,
  namesFraming,
  trimOws,
} from './http1-common.ts';

/** A backend's response the router cannot pass on: it answers 502 and drops the connection. */
export class ResponseParseError extends Error {
  readonly code = 'EBADRESPONSE';
}

/** What a response head says, with hop-by-hop headers and Content-Length taken out of `headers`. */
export interface ResponseHeadInfo {
  status: number;
  message: string;
  headers: string[];
  /** -1 when there is none. */
  length: number;
  chunked: boolean;
  close: boolean;
  /** Backend's `Keep-Alive: timeout=N` hint in ms, or 0. */
  idleHintMs: number;
  upgradeTo: string;
}

const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: (.*))?$/;

function fail(msg: string): never {
  throw new ResponseParseError(msg);
}

/**
 * Reads a response head (the text before the empty line); throws ResponseParseError when
 * malformed or when its framing could be read two ways: a Transfer-Encoding other than one
 * `chunked`, both Transfer-Encoding and Content-Length (as nginx refuses them), or a Connection
 * header naming a framing header. Headers the Connection header names go no further.
 */
export function readResponseHead(text: string): ResponseHeadInfo {
  if (!cleanHead(text)) fail('bad bytes in response head');
  const lines = text.split('\r\n');
  const m = STATUS_LINE.exec(lines[0]!);
  if (!m) fail('bad status line');
  const http10 = m[1] === '0';
  const h: ResponseHeadInfo = {
    status: Number(m[2]),
    message: m[3] ?? '',
    headers: [],
    length: -1,
    chunked: false,
    close: http10,
    idleHintMs: 0,
    upgradeTo: '',
  };
  let transferEncoding: string | null = null;
  let closeAsked = false;
  let keepAliveAsked = false;
  let named: Set<string> | null = null;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!isToken(name)) fail(colon > 0 ? 'bad header name' : 'bad header line');
    const value = trimOws(line, colon + 1);
    const lower = name.toLowerCase();
    if (lower === 'content-length') {
      h.length = contentLength(value, h.length);
      if (h.length === -2) fail('bad Content-Length');
    } else if (!HOP_BY_HOP.has(lower)) {
      h.headers.push(name, value);
    } else if (lower === 'transfer-encoding') {
      transferEncoding = transferEncoding === null ? value : `${transferEncoding}, ${value}`;
    } else if (lower === 'connection') {
      const t = connectionTokens(value);
      if (t.close) closeAsked = true;
      if (t.keepAlive) keepAliveAsked = true;
      if (t.extra) named = new Set([...(named ?? []), ...t.extra]);
    } else if (lower === 'upgrade') {
      h.upgradeTo = value;
    } else if (lower === 'keep-alive') {
      const t = /timeout=(\d+)/i.exec(value);
      if (t) h.idleHintMs = Number(t[1]) * 1000;
    }
  }
  h.close = closeAsked || (http10 && !keepAliveAsked);
  const framing = namesFraming(named);
  if (framing !== null) fail(`the Connection header names ${framing}`);
  if (transferEncoding !== null) {
    if (transferEncoding.trim().toLowerCase() !== 'chunked') fail('a Transfer-Encoding other than chunked');
    if (h.length !== -1) fail('both Content-Length and Transfer-Encoding');
    h.chunked = true;
  }
  if (named !== null) {
    const kept: string[] = [];
    for (let i = 0; i < h.headers.length; i += 2) {
      if (!named.has(h.headers[i]!.toLowerCase())) kept.push(h.headers[i]!, h.headers[i + 1]!);
    }
    h.headers = kept;
  }
  return h;
}
