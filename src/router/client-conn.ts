import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { ChunkedDecoder, ChunkedError } from './chunked.ts';
import { BodyMode, type ClientInfo, hostOf } from './headers.ts';
import { parseRequestHead, RequestError, type RequestHead } from './http1-request.ts';
import { Framing } from './http1-response.ts';
import { type RawServiceMetrics, record } from './metrics.ts';
import { type PageOptions, pageResponse, unknownHostDetail } from './pages.ts';
import { Exchange, type ProxyContext } from './proxy.ts';
import { proxyUpgrade } from './websocket.ts';

/**
 * One client TCP connection: reads request heads (keep-alive, one request at a time, later
 * pipelined ones wait), routes each by its own Host header, feeds request bodies to the
 * exchange and writes its response with the right framing.
 */

const CRLF2 = Buffer.from('\r\n\r\n');
const MAX_HEAD = 16 * 1024;
// Bytes of pipelined requests held while one is in progress; more and reading pauses.
const MAX_PENDING = 64 * 1024;
const LAST_CHUNK = '0\r\n\r\n';

enum Out {
  None,
  Length,
  Chunked,
  UntilClose,
}

export class ClientConnection implements ClientInfo {
  readonly address: string;
  readonly localPort: number;
  current: Exchange | null = null;
  /** Close once the current response is out (the client asked, a body was left unread, shutdown). */
  closeAfter = false;
  #pending: Buffer | null = null;
  #body: { remaining: number; chunks: ChunkedDecoder | null; exchange: Exchange; paused: boolean } | null =
    null;
  #headDeadline = 0;
  #parsing = false;
  #out = Out.None;
  #corked = false;
  #closed = false;

  constructor(
    readonly ctx: ProxyContext,
    readonly socket: Socket,
  ) {
    const a = socket.remoteAddress ?? '';
    this.address = a.startsWith('::ffff:') ? a.slice(7) : a;
    this.localPort = socket.localPort ?? 0;
    socket.setTimeout(ctx.opts.clientIdleTimeoutMs);
    socket.on('data', (d: Buffer) => {
      try {
        this.#onData(d);
      } catch (err) {
        // A bug must cost one connection, never the process and everyone else's requests.
        ctx.log.error({ err: (err as Error).stack }, 'request handling failed');
        socket.destroy();
      }
    });
    socket.on('drain', () => this.current?.onClientDrain());
    socket.on('timeout', () => {
      // Waiting on a slow backend is the upstream timeout's business, not the client's.
      if (!this.current || this.current.responded) socket.destroy();
    });
    socket.on('error', () => {});
    socket.on('close', () => this.#onClose());
  }

  get idle(): boolean {
    return this.current === null;
  }

  #onData(d: Buffer): void {
    const body = this.#body;
    if (body && !body.paused) {
      const used = this.#feedBody(d, 0);
      if (used < d.length) this.#pending = d.subarray(used);
      return;
    }
    this.#pending = this.#pending ? Buffer.concat([this.#pending, d]) : d;
    if (!this.current) this.#parseNext();
    else if (this.#pending.length > MAX_PENDING) this.socket.pause();
  }

  /** Parses and dispatches requests from the buffered bytes while no request is in progress. */
  #parseNext(): void {
    if (this.#parsing) return;
    this.#parsing = true;
    try {
      while (!this.current && this.#pending && !this.#closed && !this.socket.destroyed) {
        let buf = this.#pending;
        // An empty line before a request line is allowed (RFC 9112 §2.2).
        while (buf.length >= 2 && buf[0] === 13 && buf[1] === 10) buf = buf.subarray(2);
        const end = buf.indexOf(CRLF2);
        if (end === -1 || end > MAX_HEAD) {
          this.#pending = buf.length > 0 ? buf : null;
          if (buf.length > MAX_HEAD) {
            this.#reject(431, 'request head too large');
            return;
          }
          // Slow heads (one byte at a time) reset the idle timer, so they get their own deadline.
          const now = Date.now();
          if (this.#headDeadline === 0) this.#headDeadline = now + this.ctx.opts.headersTimeoutMs;
          else if (now > this.#headDeadline) this.#reject(408, 'request head too slow');
          return;
        }
        this.#headDeadline = 0;
        const text = buf.toString('latin1', 0, end);
        this.#pending = buf.length > end + 4 ? buf.subarray(end + 4) : null;
        let head: RequestHead;
        try {
          head = parseRequestHead(text);
        } catch (err) {
          if (!(err instanceof RequestError)) throw err;
          this.#reject(err.status, err.message);
          return;
        }
        this.#dispatch(head);
      }
      if (!this.#body && this.socket.isPaused() && (this.#pending?.length ?? 0) < MAX_PENDING) {
        this.socket.resume();
      }
    } finally {
      this.#parsing = false;
    }
  }

  #dispatch(head: RequestHead): void {
    const ctx = this.ctx;
    const start = performance.now();
    if (head.close || ctx.draining) this.closeAfter = true;
    const host = hostOf(head.host);
    const active = ctx.index.lookup(host);
    const hasBody = head.chunked || head.contentLength > 0;
    if (!active) {
      this.page(head, 404, unknownHostDetail(host), ctx.unknown, start, { close: hasBody });
      return;
    }
    const route = active.route;
    if (head.upgrade !== null && route.kind === 'proxy' && !hasBody) {
      // From here the socket belongs to the tunnel; this object lets go of it.
      this.#closed = true;
      for (const e of ['data', 'timeout', 'drain', 'close']) this.socket.removeAllListeners(e);
      this.socket.setTimeout(0);
      ctx.connections.delete(this);
      proxyUpgrade(ctx, head, this, this.socket, this.#pending ?? Buffer.alloc(0), active);
      this.#pending = null;
      return;
    }
    if (head.contentLength > ctx.opts.bodyLimit) {
      // Refused before a byte of it is read; the connection closes so it is never read.
      const detail = `The request body is larger than ${ctx.opts.bodyLimit} bytes.`;
      this.page(head, 413, detail, active.metrics, start, { close: true });
      return;
    }
    const isStatic = route.kind === 'static';
    if (isStatic && head.method !== 'GET' && head.method !== 'HEAD') {
      this.page(head, 405, undefined, active.metrics, start, {
        close: hasBody,
        extra: 'Allow: GET, HEAD\r\n',
      });
      return;
    }
    const mode = head.chunked ? BodyMode.Chunked : hasBody ? BodyMode.Length : BodyMode.None;
    const exchange = new Exchange(this, head, active, mode, start);
    this.current = exchange;
    if (mode !== BodyMode.None) {
      const chunks = head.chunked ? new ChunkedDecoder() : null;
      // Paused until the exchange has a backend connection to send the body to.
      this.#body = { remaining: head.contentLength, chunks, exchange, paused: true };
      this.socket.pause();
      if (head.expectContinue) this.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
    }
    exchange.attempt(null);
  }

  /** The exchange is ready for the request body: feed what is buffered, then read on. */
  startBody(): void {
    const body = this.#body;
    if (!body) return;
    body.paused = false;
    const buf = this.#pending;
    this.#pending = null;
    if (buf) {
      const used = this.#feedBody(buf, 0);
      if (used < buf.length) this.#pending = buf.subarray(used);
    }
    if (this.#body) this.socket.resume();
  }

  pauseBody(): void {
    if (this.#body) {
      this.#body.paused = true;
      this.socket.pause();
    }
  }

  resumeBody(): void {
    if (this.#body?.paused) this.startBody();
  }

  /** Passes request body bytes from `buf` to the exchange; returns how many were body. */
  #feedBody(buf: Buffer, pos: number): number {
    const body = this.#body!;
    const ex = body.exchange;
    if (body.chunks) {
      try {
        pos = body.chunks.decode(buf, pos, (a, b) => {
          if (this.#body === body) ex.onRequestBody(buf.subarray(a, b));
        });
      } catch (err) {
        if (!(err instanceof ChunkedError)) throw err;
        this.#body = null;
        ex.onRequestBodyBroken();
        return buf.length;
      }
      if (this.#body !== body) return buf.length;
      if (body.chunks.done) this.#endBody();
      return pos;
    }
    const n = Math.min(body.remaining, buf.length - pos);
    body.remaining -= n;
    ex.onRequestBody(pos === 0 && n === buf.length ? buf : buf.subarray(pos, pos + n));
    // The exchange may have ended meanwhile (413, backend failure): then the rest is not ours.
    if (this.#body !== body) return buf.length;
    if (body.remaining === 0) this.#endBody();
    return pos + n;
  }

  #endBody(): void {
    const body = this.#body;
    if (!body) return;
    this.#body = null;
    body.exchange.onRequestBodyEnd();
  }

  /** True while part of the request body is still unread: the connection cannot be reused. */
  get bodyUnread(): boolean {
    return this.#body !== null;
  }

  /** Begins a response; the head is written together with the first body bytes. */
  startResponse(status: number, message: string, headers: string[], framing: Framing, noBody: boolean): void {
    if (this.#body) this.closeAfter = true;
    let out: Out;
    let extra = '';
    if (noBody || status === 204 || status === 304 || framing === Framing.None) out = Out.None;
    else if (framing === Framing.Length) out = Out.Length;
    else if (this.current?.head.http10) {
      out = Out.UntilClose;
      this.closeAfter = true;
    } else {
      out = Out.Chunked;
      extra = 'Transfer-Encoding: chunked\r\n';
    }
    if (this.closeAfter || this.ctx.draining) extra += 'Connection: close\r\n';
    else if (this.current?.head.http10) extra += 'Connection: keep-alive\r\n';
    let s = `HTTP/1.1 ${status} ${message || STATUS_CODES[status] || 'Unknown'}\r\n`;
    for (let i = 0; i < headers.length; i += 2) s += `${headers[i]}: ${headers[i + 1]}\r\n`;
    this.#out = out;
    // Corked until the upstream read that brought this head is handled (see flush()).
    if (!this.#corked) {
      this.#corked = true;
      this.socket.cork();
    }
    this.socket.write(`${s}${extra}\r\n`, 'latin1');
  }

  /** Writes body bytes; false when the client is not keeping up (pause the source until 'drain'). */
  writeBody(chunk: Buffer): boolean {
    if (chunk.length === 0 || this.#out === Out.None) return true;
    if (this.#out === Out.Chunked) {
      this.socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      this.socket.write(chunk);
      return this.socket.write('\r\n', 'latin1');
    }
    return this.socket.write(chunk);
  }

  /** Ends the response; the connection then serves the next request or closes. */
  endResponse(): void {
    if (this.#out === Out.Chunked) this.socket.write(LAST_CHUNK, 'latin1');
    this.#out = Out.None;
    this.requestDone();
  }

  /** Sends buffered response bytes now (called after each upstream read is handled). */
  flush(): void {
    if (this.#corked) {
      this.#corked = false;
      this.socket.uncork();
    }
  }

  /** Answers with one of the router's pages; counts it in `metrics` unless null (the exchange counts). */
  page(
    head: RequestHead,
    status: number,
    detail: string | undefined,
    metrics: RawServiceMetrics | null,
    start: number,
    o: PageOptions = {},
  ): void {
    if (o.close || this.#body) this.closeAfter = true;
    const close = this.closeAfter || this.ctx.draining;
    const text = pageResponse(status, detail, { ...o, close, headRequest: head.method === 'HEAD' });
    this.socket.write(text, 'utf8');
    if (metrics) record(metrics, status, performance.now() - start, 0, 0);
    this.requestDone();
  }

  /** The current request is answered: close, or go on with the next one. */
  requestDone(): void {
    this.current = null;
    this.#body = null;
    if (this.closeAfter || this.ctx.draining) {
      this.flush();
      this.socket.destroySoon();
      return;
    }
    this.#parseNext();
  }

  /** Cuts the connection (a response broke off midway: the client must see it was cut). */
  abort(): void {
    this.socket.destroy();
  }

  /** Shutdown: an idle connection closes now, a busy one after its response. */
  drain(): void {
    if (this.current === null && !this.#closed) this.socket.destroy();
    else this.closeAfter = true;
  }

  /** A request the router will not read further: answer, count, close. */
  #reject(status: number, _reason: string): void {
    this.closeAfter = true;
    this.socket.write(pageResponse(status, undefined, { close: true }), 'utf8');
    record(this.ctx.unknown, status, 0, 0, 0);
    this.#pending = null;
    this.socket.destroySoon();
  }

  #onClose(): void {
    this.#closed = true;
    this.#body = null;
    this.#pending = null;
    const ex = this.current;
    this.current = null;
    ex?.onClientClose();
    this.ctx.connections.delete(this);
  }
}
