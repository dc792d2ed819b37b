/**
 * A strict, allocation-light parser for HTTP/1.1 responses from backends, used by the router's
 * own upstream client instead of http.request: measured on the target machine, Node's
 * ClientRequest/Agent/IncomingMessage path cost about twice the CPU per proxied request
 * (docs/decisions/007-router-process-model.md).
 *
 * Backends run tenants' code, so anything ambiguous (bad framing, bad header bytes, oversize
 * heads) is an error: the router answers 502 and drops that connection.
 */
import { ChunkedDecoder } from './chunked.ts';
import { type ResponseHeadInfo, ResponseParseError, readResponseHead } from './http1-response-head.ts';

export { ResponseParseError } from './http1-response-head.ts';

/** Receives what the parser finds, in order: one head, body pieces, then completion. */
export interface ResponseSink {
  onHead(p: ResponseParser): void;
  /** `last` is true on the final piece of a Content-Length body, so it can go out with the end. */
  onBody(chunk: Buffer, last: boolean): void;
  onComplete(): void;
}

/** How the response body is delimited on the wire from the backend. */
export enum Framing {
  None = 0,
  Length = 1,
  Chunked = 2,
  UntilClose = 3,
}

const MAX_HEAD = 64 * 1024;
const CRLF2 = Buffer.from('\r\n\r\n');

enum S {
  Head,
  Length,
  Chunked,
  UntilClose,
  Done,
  Failed,
}

/** Parses the responses on one backend connection, one per `reset()`. */
export class ResponseParser {
  sink: ResponseSink | null = null;
  status = 0;
  statusMessage = '';
  /**
   * Response headers minus hop-by-hop ones (and a Content-Length overruled by chunking), flat.
   * Shared with later responses on the connection that have the same head: read, never change.
   */
  headers: readonly string[] = [];
  framing = Framing.None;
  /** The connection may carry another request after this response. */
  keepAlive = true;
  /** Backend's `Keep-Alive: timeout=N` hint in ms, or 0. */
  idleHintMs = 0;
  /** Bytes left over after a 101 (upgrade mode), for the tunnel. */
  rest: Buffer | null = null;
  /** The Upgrade header of a 101, e.g. `websocket`. */
  upgradeTo = '';
  #state = S.Head;
  #noBody = false;
  #upgrade = false;
  #remaining = 0;
  #pending: Buffer | null = null;
  #seen = false;
  readonly #chunks = new ChunkedDecoder();
  // The last head read on this connection, what it said, and its header lines as sent to the
  // client: a backend answering alike again (the same head text, byte for byte) is not read and
  // serialised again. readResponseHead is a pure function of the text, so this cannot change
  // what is accepted; only the Date header usually differs, once a second.
  #lastText = '';
  #lastHead: ResponseHeadInfo | null = null;
  #lastHeaders: string[] = [];
  #lines: string | null = null;
  #hsts = false;

  /** Prepares for the response to a new request. */
  reset(sink: ResponseSink, headRequest: boolean, upgrade = false): void {
    this.sink = sink;
    this.#state = S.Head;
    this.#noBody = headRequest;
    this.#upgrade = upgrade;
    this.#pending = null;
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

  /** The headers as `Name: value\r\n` lines, made once per distinct head. */
  get headerLines(): string {
    if (this.#lines === null) {
      const headers = this.headers;
      let s = '';
      let hsts = false;
      for (let i = 0; i < headers.length; i += 2) {
        s += `${headers[i]}: ${headers[i + 1]}\r\n`;
        if (!hsts && headers[i]!.toLowerCase() === 'strict-transport-security') hsts = true;
      }
      this.#lines = s;
      this.#hsts = hsts;
    }
    return this.#lines;
  }

  /** The backend sent its own Strict-Transport-Security header (the router then adds none). */
  get hasHsts(): boolean {
    this.headerLines;
    return this.#hsts;
  }

  /**
   * Feeds bytes from the socket; throws ResponseParseError on a malformed response. A
   * `borrowed` buffer is reused for the next read, so whatever outlives this call is copied.
   */
  execute(buf: Buffer, borrowed = false): void {
    this.#seen = true;
    const sink = this.sink!;
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
          const end = buf.indexOf(CRLF2, pos);
          if (end === -1 || end - pos > MAX_HEAD) {
            if (buf.length - pos > MAX_HEAD) this.#fail('response head too large');
            this.#pending = take(pos, buf.length);
            return;
          }
          const final = this.#parseHead(buf.toString('latin1', pos, end));
          pos = end + 4;
          if (!final) break; // 1xx: the real head follows
          if (this.status === 101) this.rest = take(pos, buf.length);
          sink.onHead(this);
          if (this.status === 101) return;
          if (this.complete) {
            this.#complete(pos < buf.length);
            return;
          }
          break;
        }
        case S.Length: {
          const n = Math.min(this.#remaining, buf.length - pos);
          this.#remaining -= n;
          const last = this.#remaining === 0;
          if (last) this.#state = S.Done;
          sink.onBody(take(pos, pos + n), last);
          pos += n;
          if (last) {
            this.#complete(pos < buf.length);
            return;
          }
          break;
        }
        case S.Chunked: {
          try {
            pos = this.#chunks.decode(buf, pos, (a, b) => sink.onBody(take(a, b), false));
          } catch (err) {
            this.#fail((err as Error).message);
          }
          if (this.#chunks.done) {
            this.#state = S.Done;
            this.#complete(pos < buf.length);
            return;
          }
          break;
        }
        case S.UntilClose:
          sink.onBody(take(pos, buf.length), false);
          return;
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

  /** Parses a head; false for an interim (1xx) one. */
  #parseHead(text: string): boolean {
    let h = this.#lastHead;
    if (h === null || text !== this.#lastText) {
      h = readResponseHead(text);
      this.#lastText = text;
      this.#lastHead = h;
      // A length is sent on as the last header (its framing is the router's to state again).
      this.#lastHeaders = h.length === -1 ? h.headers : [...h.headers, 'Content-Length', String(h.length)];
      this.#lines = null;
    }
    this.idleHintMs = h.idleHintMs;
    if (h.upgradeTo) this.upgradeTo = h.upgradeTo;
    const { status, length, chunked } = h;
    if (status < 200 && status !== 101) return false; // 100 Continue, 103 Early Hints
    this.status = status;
    this.statusMessage = h.message;
    this.keepAlive = !h.close;
    this.headers = this.#lastHeaders;
    if (status === 101) {
      if (!this.#upgrade) this.#fail('unexpected 101');
      this.#state = S.Done;
      this.keepAlive = false;
      this.framing = Framing.None;
      return true;
    }
    const noBody = this.#noBody || status === 204 || status === 304;
    if (!noBody && chunked) {
      this.framing = Framing.Chunked;
      this.#state = S.Chunked;
      this.#chunks.reset();
    } else if (length !== -1) {
      this.framing = noBody ? Framing.None : Framing.Length;
      this.#state = noBody || length === 0 ? S.Done : S.Length;
      this.#remaining = length;
    } else {
      this.framing = noBody ? Framing.None : Framing.UntilClose;
      this.#state = noBody ? S.Done : S.UntilClose;
      if (!noBody) this.keepAlive = false;
    }
    return true;
  }
}
