/**
 * A strict, allocation-light parser for HTTP/1.1 responses from backends. The router's own
 * upstream client uses it instead of http.request: measured on the target machine, Node's
 * ClientRequest/Agent/IncomingMessage path cost about twice the CPU per proxied request
 * (docs/decisions/005-router-process-model.md). The citizen-facing side stays on Node's server.
 *
 * Backends are tenants' code, so anything ambiguous (bad framing, bad header bytes, oversize
 * heads) is an error: the router answers 502 and drops that connection.
 */

/** Receives what the parser finds, in order: one head, body pieces, then completion. */
export interface ResponseSink {
  onHead(p: ResponseParser): void;
  /** `last` is true on the final piece of a Content-Length body, so it can go out with end(). */
  onBody(chunk: Buffer, last: boolean): void;
  onComplete(): void;
}

export class ResponseParseError extends Error {
  readonly code = 'EBADRESPONSE';
}

// Hop-by-hop headers (RFC 9110 §7.6.1) are dropped while parsing; framing is redone for the client.
const DROP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: (.*))?$/;
const MAX_HEAD = 64 * 1024;
const MAX_LINE = 4096;
const CRLF4 = Buffer.from('\r\n\r\n');

/** Control characters other than tab may not appear in a header value or reason phrase. */
function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true;
  }
  return false;
}

enum S {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
  Done,
  Failed,
}

export class ResponseParser {
  sink: ResponseSink | null = null;
  status = 0;
  statusMessage = '';
  /** Response headers minus hop-by-hop ones, flat `[name, value, …]`. */
  headers: string[] = [];
  /** The connection may carry another request after this response. */
  keepAlive = true;
  /** Backend's `Keep-Alive: timeout=N` hint in ms, or 0. */
  idleHintMs = 0;
  /** Bytes left over after a 101 (upgrade mode) for the tunnel. */
  rest: Buffer | null = null;
  /** The Upgrade header of a 101, e.g. `websocket`. */
  upgradeTo = '';
  #state = S.Head;
  #noBody = false;
  #upgrade = false;
  #remaining = 0;
  #pending: Buffer | null = null;
  #line = '';
  #seen = false;

  /** Prepares for the response to a new request. */
  reset(sink: ResponseSink, headRequest: boolean, upgrade = false): void {
    this.sink = sink;
    this.#state = S.Head;
    this.#noBody = headRequest;
    this.#upgrade = upgrade;
    this.#pending = null;
    this.#line = '';
    this.#seen = false;
    this.rest = null;
  }

  get complete(): boolean {
    return this.#state === S.Done;
  }

  /** True once any byte of the response arrived: a failure is then no longer safe to retry. */
  get started(): boolean {
    return this.#seen;
  }

  get readsUntilClose(): boolean {
    return this.#state === S.UntilClose;
  }

  /**
   * Feeds bytes from the socket; throws ResponseParseError on a malformed response. A
   * `borrowed` buffer is reused for the next read, so whatever outlives this call is copied.
   */
  execute(buf: Buffer, borrowed = false): void {
    this.#seen = true;
    const take = (start: number, end: number): Buffer => {
      if (!borrowed) return start === 0 && end === buf.length ? buf : buf.subarray(start, end);
      return Buffer.from(buf.subarray(start, end));
    };
    let pos = 0;
    while (pos < buf.length) {
      switch (this.#state) {
        case S.Head: {
          if (this.#pending) {
            buf = Buffer.concat([this.#pending, buf.subarray(pos)]);
            borrowed = false;
            pos = 0;
            this.#pending = null;
          }
          const end = buf.indexOf(CRLF4, pos);
          if (end === -1) {
            if (buf.length - pos > MAX_HEAD) this.#fail('response head too large');
            this.#pending = take(pos, buf.length);
            return;
          }
          if (end - pos > MAX_HEAD) this.#fail('response head too large');
          const final = this.#parseHead(buf.toString('latin1', pos, end));
          pos = end + 4;
          if (!final) break; // 1xx: the real head follows
          if (this.status === 101) {
            this.rest = take(pos, buf.length);
            this.sink!.onHead(this);
            return;
          }
          this.sink!.onHead(this);
          if (this.complete) {
            this.#complete(pos < buf.length);
            return;
          }
          break;
        }
        case S.Length: {
          const n = Math.min(this.#remaining, buf.length - pos);
          this.#remaining -= n;
          const chunk = take(pos, pos + n);
          pos += n;
          const last = this.#remaining === 0;
          if (last) this.#state = S.Done;
          this.sink!.onBody(chunk, last);
          if (last) {
            this.#complete(pos < buf.length);
            return;
          }
          break;
        }
        case S.ChunkSize:
        case S.Trailers:
        case S.ChunkDataEnd: {
          const nl = buf.indexOf(10, pos);
          const stop = nl === -1 ? buf.length : nl + 1;
          this.#line += buf.toString('latin1', pos, stop);
          pos = stop;
          if (this.#line.length > MAX_LINE) this.#fail('chunk line too long');
          if (nl !== -1) this.#onLine();
          if (this.complete) {
            this.#complete(pos < buf.length);
            return;
          }
          break;
        }
        case S.ChunkData: {
          const n = Math.min(this.#remaining, buf.length - pos);
          this.#remaining -= n;
          const chunk = take(pos, pos + n);
          pos += n;
          if (this.#remaining === 0) this.#state = S.ChunkDataEnd;
          this.sink!.onBody(chunk, false);
          break;
        }
        case S.UntilClose: {
          this.sink!.onBody(take(pos, buf.length), false);
          return;
        }
        case S.Done:
          // Bytes nobody asked for: the connection's framing can no longer be trusted.
          this.keepAlive = false;
          return;
        case S.Failed:
          return;
      }
    }
  }

  /** The backend closed the connection: completes a close-delimited body. */
  finishOnClose(): boolean {
    if (this.#state !== S.UntilClose) return false;
    this.#state = S.Done;
    this.sink!.onComplete();
    return true;
  }

  /**
   * Reports the end of the response. Returns to the caller at once: the sink may hand the
   * connection to the next request, and leftover bytes must not be read as its response.
   */
  #complete(extraBytes: boolean): void {
    if (extraBytes) this.keepAlive = false;
    this.sink!.onComplete();
  }

  #fail(msg: string): never {
    this.#state = S.Failed;
    this.keepAlive = false;
    throw new ResponseParseError(msg);
  }

  #onLine(): void {
    const line = this.#line;
    this.#line = '';
    if (!line.endsWith('\r\n')) this.#fail('bare LF in chunked body');
    if (this.#state === S.ChunkDataEnd) {
      if (line !== '\r\n') this.#fail('missing CRLF after chunk');
      this.#state = S.ChunkSize;
      return;
    }
    if (this.#state === S.Trailers) {
      // Trailers are dropped: few clients use them and forwarding them needs declared names.
      if (line === '\r\n') this.#state = S.Done;
      return;
    }
    const m = /^([0-9a-fA-F]{1,12})[ \t]*(;[^\r\n]*)?\r\n$/.exec(line);
    if (!m) this.#fail('bad chunk size');
    const size = Number.parseInt(m[1]!, 16);
    if (size === 0) {
      this.#state = S.Trailers;
    } else {
      this.#remaining = size;
      this.#state = S.ChunkData;
    }
  }

  /** Parses a head; false for an interim (1xx) one. */
  #parseHead(text: string): boolean {
    const lines = text.split('\r\n');
    const m = STATUS_LINE.exec(lines[0]!);
    if (!m || hasControlChar(m[3] ?? '')) this.#fail('bad status line');
    const status = Number(m[2]);
    const http10 = m[1] === '0';
    const out: string[] = [];
    let length = -1;
    let chunked = false;
    let otherCoding = false;
    let close = http10;
    this.idleHintMs = 0;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon <= 0) this.#fail('bad header line');
      const name = line.slice(0, colon);
      if (!TOKEN.test(name)) this.#fail('bad header name');
      const value = line.slice(colon + 1).trim();
      if (hasControlChar(value)) this.#fail('bad header value');
      const lower = name.toLowerCase();
      if (lower === 'content-length') {
        // A list of equal values is the only repeat allowed (RFC 9110 §8.6).
        for (const part of value.split(',')) {
          const v = part.trim();
          if (!/^\d{1,15}$/.test(v) || (length !== -1 && Number(v) !== length))
            this.#fail('bad Content-Length');
          length = Number(v);
        }
        continue;
      }
      if (DROP.has(lower)) {
        if (lower === 'transfer-encoding') {
          const codings = value.toLowerCase().split(',');
          chunked = codings[codings.length - 1]!.trim() === 'chunked';
          otherCoding = !chunked;
        } else if (lower === 'connection') {
          const v = value.toLowerCase();
          if (v.includes('close')) close = true;
          else if (http10 && v.includes('keep-alive')) close = false;
        } else if (lower === 'upgrade') {
          this.upgradeTo = value;
        } else if (lower === 'keep-alive') {
          const t = /timeout=(\d+)/i.exec(value);
          if (t) this.idleHintMs = Number(t[1]) * 1000;
        }
        continue;
      }
      out.push(name, value);
    }
    if (status < 200 && status !== 101) return false; // 100 Continue, 103 Early Hints
    this.status = status;
    this.statusMessage = m[3] ?? '';
    this.keepAlive = !close;
    if (status === 101) {
      this.headers = out;
      this.#state = S.Done;
      this.keepAlive = false;
      if (!this.#upgrade) this.#fail('unexpected 101');
      return true;
    }
    const noBody = this.#noBody || status === 204 || status === 304;
    // Transfer-Encoding wins over Content-Length (RFC 9112 §6.3), and such a connection is not reused.
    if (!noBody && chunked) {
      if (length !== -1) this.keepAlive = false;
      this.#state = S.ChunkSize;
    } else if (!noBody && otherCoding) {
      this.#state = S.UntilClose;
      this.keepAlive = false;
    } else if (length !== -1) {
      out.push('Content-Length', String(length));
      this.#state = noBody || length === 0 ? S.Done : S.Length;
      this.#remaining = length;
    } else {
      this.#state = noBody ? S.Done : S.UntilClose;
      if (!noBody) this.keepAlive = false;
    }
    this.headers = out;
    return true;
  }
}
