import { cleanHead, contentLength, HOP_BY_HOP, isToken, trimOws } from './http1-common.ts';

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
  /** A transfer coding other than chunked: the body then runs until the connection closes. */
  otherCoding: boolean;
  close: boolean;
  /** Backend's `Keep-Alive: timeout=N` hint in ms, or 0. */
  idleHintMs: number;
  upgradeTo: string;
}

const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: (.*))?$/;

function fail(msg: string): never {
  throw new ResponseParseError(msg);
}

/** Reads a response head (the text before the empty line); throws ResponseParseError when malformed. */
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
    otherCoding: false,
    close: http10,
    idleHintMs: 0,
    upgradeTo: '',
  };
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
      const codings = value.toLowerCase().split(',');
      h.chunked = codings[codings.length - 1]!.trim() === 'chunked';
      h.otherCoding = !h.chunked;
    } else if (lower === 'connection') {
      const v = value.toLowerCase();
      if (v.includes('close')) h.close = true;
      else if (http10 && v.includes('keep-alive')) h.close = false;
    } else if (lower === 'upgrade') {
      h.upgradeTo = value;
    } else if (lower === 'keep-alive') {
      const t = /timeout=(\d+)/i.exec(value);
      if (t) h.idleHintMs = Number(t[1]) * 1000;
    }
  }
  return h;
}
