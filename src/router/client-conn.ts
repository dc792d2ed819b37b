import type { Socket } from 'node:net';
import type { Counter, ProxyContext } from './context.ts';
import { dispatch } from './dispatch.ts';
import { BodyMode, type ClientInfo, isTrustedPeer } from './headers.ts';
import { parseRequestHead, RequestError, type RequestHead, splitHead } from './http1-request.ts';
import type { ResponseParser } from './http1-response.ts';
import { record } from './metrics.ts';
import { type PageOptions, pageResponse } from './pages.ts';
import type { Exchange } from './proxy.ts';
import { RequestBody } from './request-body.ts';
import { ResponseWriter } from './response-writer.ts';

/**
 * One client TCP connection: reads request heads (keep-alive, one request at a time, later
 * pipelined ones wait), routes each by its own Host header, feeds request bodies to the
 * exchange and writes its response with the right framing.
 */

const MAX_HEAD = 16 * 1024;
/** One year, as the HSTS preload list asks; no includeSubDomains: a department's other names are theirs. */
const HSTS = 'max-age=31536000';

const HSTS_LINE = `Strict-Transport-Security: ${HSTS}\r\n`;
// Bytes of pipelined requests held while one is in progress; more and reading pauses.
const MAX_PENDING = 64 * 1024;

/** A citizen's (or load balancer's) connection to the router; see the note above. */
export class ClientConnection implements ClientInfo {
  readonly address: string;
  readonly localPort: number;
  /** The peer is a trusted proxy: its forwarding headers are extended, not replaced. */
  readonly trusted: boolean;
  current: Exchange | null = null;
  /** Close once the current response is out (the client asked, a body was left unread, shutdown). */
  closeAfter = false;
  #pending: Buffer | null = null;
  #body: RequestBody | null = null;
  #headDeadline = 0;
  #parsing = false;
  readonly #writer: ResponseWriter;
  #closed = false;
  /** The client shut its sending side: no more bytes will come. */
  #ended = false;

  constructor(
    readonly ctx: ProxyContext,
    readonly socket: Socket,
  ) {
    const a = socket.remoteAddress ?? '';
    this.address = a.startsWith('::ffff:') ? a.slice(7) : a;
    this.localPort = socket.localPort ?? 0;
    this.trusted = isTrustedPeer(this.address, ctx.opts.trustedProxies);
    this.#writer = new ResponseWriter(socket);
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
    socket.on('end', () => {
      // The client has sent all it will: the requests it sent are answered, then the connection
      // closes (data events have parsed every whole request by now, so with none in progress
      // what is left is incomplete). A body it stopped sending halfway can never be finished:
      // that request is refused now rather than holding a backend until the upstream timeout.
      this.#ended = true;
      if (this.current === null) this.socket.destroySoon();
      else if (this.#body !== null && !this.#body.paused) this.#bodyBroken();
    });
    socket.on('error', () => {});
    socket.on('close', () => this.#onClose());
  }

  #onData(d: Buffer): void {
    // Closing after the current answer: whatever else the client sends is not read.
    if (this.closeAfter && this.current === null) return;
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
      // Nothing is read past a request after which the connection closes (Connection: close, or
      // a refusal that left its body unread): those bytes are that body, not a request.
      while (!this.current && this.#pending && !this.closeAfter && !this.#closed && !this.socket.destroyed) {
        let head: RequestHead;
        try {
          const split = splitHead(this.#pending, MAX_HEAD);
          if (split === null) {
            // Slow heads (a byte at a time) keep resetting the idle timer: they get a deadline.
            const now = Date.now();
            if (this.#headDeadline === 0) this.#headDeadline = now + this.ctx.opts.headersTimeoutMs;
            else if (now > this.#headDeadline) this.#reject(408, 'the request head came too slowly');
            return;
          }
          this.#headDeadline = 0;
          this.#pending = split.rest;
          head = parseRequestHead(split.text);
        } catch (err) {
          if (!(err instanceof RequestError)) throw err;
          this.#reject(err.status, err.message);
          return;
        }
        dispatch(this, head);
      }
      if (!this.#body && this.socket.isPaused() && (this.#pending?.length ?? 0) < MAX_PENDING) {
        this.socket.resume();
      }
    } finally {
      this.#parsing = false;
    }
  }

  /** Hands the socket (and bytes read past the head) over to a websocket tunnel; this object lets go. */
  handOver(): { socket: Socket; rest: Buffer } {
    // An earlier response still held by the writer goes out before the tunnel writes anything.
    this.#writer.flush();
    this.#closed = true;
    for (const e of ['data', 'end', 'timeout', 'drain', 'close']) this.socket.removeAllListeners(e);
    this.socket.setTimeout(0);
    // Bytes the client sends before the backend agrees to the upgrade wait in the socket: without
    // a 'data' listener a flowing socket would drop them.
    this.socket.pause();
    this.ctx.connections.delete(this);
    this.ctx.onConnectionClosed?.();
    const rest = this.#pending ?? Buffer.alloc(0);
    this.#pending = null;
    return { socket: this.socket, rest };
  }

  /** Makes `exchange` the request in progress; its body (if any) is read once it has a backend. */
  begin(exchange: Exchange): void {
    this.current = exchange;
    const head = exchange.head;
    if (exchange.body !== BodyMode.None) {
      this.#body = new RequestBody(exchange, head.contentLength, head.chunked);
      this.socket.pause();
      if (head.expectContinue) this.#write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
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
    if (this.#body) {
      // Everything the client sent is fed and the body is still short: it never will be whole.
      if (this.#ended) this.#bodyBroken();
      else this.socket.resume();
    }
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
    const used = body.feed(buf, pos);
    if (this.#body !== body) return buf.length; // the exchange ended meanwhile (413, backend failure)
    if (body.broken) {
      this.#bodyBroken();
      return buf.length;
    }
    if (body.done) {
      this.#body = null;
      body.exchange.onRequestBodyEnd();
    }
    return used;
  }

  /**
   * The request body's framing is broken (or the client stopped sending it): where the next
   * request would start is unknown, so nothing more is read and the connection closes after
   * the 400.
   */
  #bodyBroken(): void {
    const body = this.#body;
    if (!body) return;
    this.#body = null;
    this.#pending = null;
    this.closeAfter = true;
    body.exchange.onRequestBodyBroken();
  }

  /** True while part of the request body is still unread: the connection cannot be reused. */
  get bodyUnread(): boolean {
    return this.#body !== null;
  }

  /** Begins the backend's response `p`; the head is written together with the first body bytes. */
  startResponse(p: ResponseParser, noBody: boolean): void {
    // A body still being read when the answer comes: the connection cannot carry another request.
    if (this.#body) this.closeAfter = true;
    const current = this.current;
    const http10 = current?.head.http10 ?? false;
    // HSTS unless the service sent its own.
    let lines = p.headerLines;
    if (this.ctx.secure && current?.active.hsts && !p.hasHsts) lines += HSTS_LINE;
    const close = this.closeAfter || this.ctx.draining;
    if (this.#writer.start(p.status, p.statusMessage, lines, p.framing, noBody, http10, close)) {
      this.closeAfter = true;
    }
  }

  writeBody(chunk: Buffer): boolean {
    return this.#writer.body(chunk);
  }

  /** Ends the response; the connection then serves the next request or closes. */
  endResponse(): void {
    this.#writer.end();
    this.requestDone();
  }

  /** Sends buffered response bytes now (called after each backend read is handled). */
  flush(): void {
    this.#writer.flush();
  }

  /** Answers with one of the router's pages; counts it in `counter` unless null (the exchange counts). */
  page(
    head: RequestHead,
    status: number,
    detail: string | undefined,
    counter: Counter | null,
    start: number,
    o: PageOptions = {},
  ): void {
    if (o.close || this.#body) this.closeAfter = true;
    const close = this.closeAfter || this.ctx.draining;
    const text = pageResponse(status, detail, { ...o, close, headRequest: head.method === 'HEAD' });
    this.#write(text, 'utf8');
    if (counter) {
      record(counter.metrics, status, performance.now() - start, 0, 0);
      this.ctx.onRequest?.({
        service: counter.service,
        method: head.method,
        target: head.target,
        status,
        bytesIn: 0,
        forwarded: 0,
      });
    }
    this.requestDone();
  }

  /**
   * Sends a whole response the router made itself (not a page); `build` is told whether the
   * connection closes after it. Not counted in any service's metrics.
   */
  reply(build: (close: boolean) => string, closeAfter: boolean): void {
    if (closeAfter || this.#body) this.closeAfter = true;
    this.#write(build(this.closeAfter || this.ctx.draining), 'latin1');
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
    if (this.#ended && this.current === null) {
      this.flush();
      this.socket.destroySoon();
    }
  }

  /** Writes the router's own text, after any response the writer still holds (order on the wire). */
  #write(text: string, encoding: 'latin1' | 'utf8'): void {
    this.#writer.flush();
    this.socket.write(text, encoding);
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
  #reject(status: number, reason: string): void {
    this.closeAfter = true;
    this.#write(pageResponse(status, `The request was refused: ${reason}.`, { close: true }), 'utf8');
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
    this.ctx.onConnectionClosed?.();
  }
}
