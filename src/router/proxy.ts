import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BackendRegistry, BackendState } from './balancer.ts';
import { BodyMode, type ForwardOptions, requestHead } from './headers.ts';
import type { ResponseParser } from './http1-response.ts';
import { type RawServiceMetrics, record } from './metrics.ts';
import { sendPage } from './pages.ts';
import type { ActiveRoute } from './route-index.ts';
import type { UpstreamConn, UpstreamUser, Waiter } from './upstream.ts';

/** Limits applied to each proxied request. */
export interface ProxyOptions extends ForwardOptions {
  /** Largest request body forwarded, in bytes; larger ones get 413. */
  bodyLimit: number;
  /** Time to open a TCP connection to a backend before trying another (or 504). */
  connectTimeoutMs: number;
  /** Time for a backend to start its response before the client gets 504. */
  upstreamTimeoutMs: number;
}

/** What the HTTP forwarding needs from the rest of the router. */
export interface ProxyContext {
  readonly backends: BackendRegistry;
  readonly opts: ProxyOptions;
  /** True once shutdown began: responses then close their connection. */
  draining: boolean;
}

// Methods that change nothing when sent twice (RFC 9110 §9.2.2) and carry no body in
// practice: these are retried once on another backend when the first could not be reached.
const RETRYABLE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ECONNTIMEOUT']);
const LAST_CHUNK = '0\r\n\r\n';

/**
 * One client request on its way to a backend and back. A class rather than nested closures:
 * the per-request state sits in one object, and each step of the exchange is a method.
 */
class Exchange implements UpstreamUser, Waiter {
  conn: UpstreamConn | null = null;
  /** Backend counting this request as in flight, until the attempt ends. */
  held: BackendState | null = null;
  timer: NodeJS.Timeout | null = null;
  readonly head: string;
  bytesIn = 0;
  bytesOut = 0;
  retried = false;
  waiting = false;
  /** Set once the client has the whole answer, or left, or got the router's own page. */
  over = false;
  responded = false;
  bodySent: boolean;
  readonly start = performance.now();

  constructor(
    readonly ctx: ProxyContext,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly active: ActiveRoute,
    readonly body: BodyMode,
  ) {
    this.head = requestHead(req, ctx.opts, body, null);
    this.bodySent = body === BodyMode.None;
    res.once('close', () => this.onClientClose());
  }

  get wantsConnection(): boolean {
    return this.waiting && !this.over;
  }

  /** Sends the request to the next backend of the pool, skipping `exclude`. */
  attempt(exclude: BackendState | null): void {
    const b = this.active.pool.pick(exclude ?? undefined);
    if (!b) {
      const none = this.active.pool.backends.length === 0;
      this.fail(none ? 503 : 502, none ? undefined : 'The service could not be reached.');
      return;
    }
    this.held = b;
    b.inflight++;
    this.timer ??= setTimeout(() => this.onTimeout(), this.ctx.opts.upstreamTimeoutMs);
    this.waiting = true;
    b.pool.acquire(this);
  }

  onConnection(err: NodeJS.ErrnoException | null, conn: UpstreamConn | null): void {
    this.waiting = false;
    if (err || !conn) {
      this.onUpstreamError(err ?? new Error('no connection'), true, false);
      return;
    }
    this.conn = conn;
    conn.send(this, this.head, this.req.method === 'HEAD');
    if (this.body !== BodyMode.None) this.streamBody(conn);
  }

  /** Forwards the client's body as it arrives, stopping with 413 past the limit. */
  streamBody(conn: UpstreamConn): void {
    const { req } = this;
    const socket = conn.socket;
    const chunked = this.body === BodyMode.Chunked;
    const limit = this.ctx.opts.bodyLimit;
    req.on('data', (chunk: Buffer) => {
      if (this.conn !== conn) return;
      this.bytesIn += chunk.length;
      if (this.bytesIn > limit) {
        req.pause();
        this.dropConnection();
        this.fail(413, `The request body is larger than ${limit} bytes.`);
        return;
      }
      let ok: boolean;
      if (chunked) {
        // Corked, the three parts of a chunk leave in one write.
        socket.cork();
        socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
        socket.write(chunk);
        ok = socket.write('\r\n', 'latin1');
        socket.uncork();
      } else {
        ok = socket.write(chunk);
      }
      if (!ok) {
        req.pause();
        socket.once('drain', () => req.resume());
      }
    });
    req.on('end', () => {
      if (this.conn !== conn) return;
      if (chunked) socket.write(LAST_CHUNK, 'latin1');
      this.bodySent = true;
    });
    // A client that goes away mid-body is handled through res 'close'; this keeps it quiet.
    req.on('error', () => {});
  }

  onHead(p: ResponseParser): void {
    this.clearTimer();
    if (this.over) return;
    this.responded = true;
    const headers = p.headers;
    if (this.ctx.draining) headers.push('Connection', 'close');
    try {
      if (p.statusMessage) this.res.writeHead(p.status, p.statusMessage, headers);
      else this.res.writeHead(p.status, headers);
    } catch {
      // Node refused a header our parser let through: treat the response as malformed.
      this.responded = false;
      this.dropConnection();
      this.fail(502);
    }
  }

  onBody(chunk: Buffer, last: boolean): void {
    if (this.over) return;
    this.bytesOut += chunk.length;
    if (last) {
      this.res.end(chunk);
    } else if (!this.res.write(chunk)) {
      const conn = this.conn!;
      conn.socket.pause();
      this.res.once('drain', () => conn.socket.resume());
    }
  }

  onComplete(): void {
    const conn = this.conn;
    this.conn = null;
    this.release();
    conn?.done(this.bodySent);
    if (!this.over && !this.res.writableEnded) this.res.end();
  }

  onUpstreamError(err: NodeJS.ErrnoException, beforeResponse: boolean, reused = true): void {
    const conn = this.conn;
    this.conn = null;
    const b = this.held;
    this.release();
    if (this.over) return;
    if (this.responded) {
      // The backend broke off mid-body: all the client can be told is a cut connection.
      this.res.destroy();
      return;
    }
    const code = err.code ?? '';
    const wasReused = reused && conn !== null && conn.uses > 1;
    // A refused or timed-out connect says the backend is down. A reset on a reused keep-alive
    // connection more likely means it closed that idle connection as we sent: it stays in rotation.
    if (b && (code === 'ECONNREFUSED' || code === 'ECONNTIMEOUT' || code === 'EHOSTUNREACH')) {
      this.active.pool.markDown(b);
    }
    const retryable = beforeResponse && CONNECT_ERRORS.has(code) && this.body === BodyMode.None;
    if (retryable && !this.retried && RETRYABLE_METHODS.has(this.req.method ?? '')) {
      this.retried = true;
      // A stale pooled connection may be retried on the same backend when it is the only one.
      const only = this.active.pool.backends.length === 1;
      this.attempt(wasReused && only ? null : b);
      return;
    }
    this.fail(code === 'ECONNTIMEOUT' ? 504 : 502);
  }

  onTimeout(): void {
    this.timer = null;
    this.dropConnection();
    this.release();
    this.fail(504);
  }

  /** Answers with the router's own page; closes the connection if the body was left unread. */
  fail(status: number, detail?: string): void {
    if (this.over) return;
    this.over = true;
    this.clearTimer();
    const unread = this.body !== BodyMode.None && !this.req.complete;
    if (this.res.headersSent) this.res.destroy();
    else sendPage(this.res, status, detail, unread || this.ctx.draining);
  }

  onClientClose(): void {
    const { res } = this;
    if (!res.writableFinished) {
      // Cut short (the client left, or the backend broke off mid-body): stop the backend's
      // work for it; the half-read connection cannot be reused.
      this.active.metrics.aborted++;
      this.dropConnection();
      this.release();
    }
    this.over = true;
    this.clearTimer();
    // 499 (nginx's "client closed request") when no status was ever sent.
    const status = res.headersSent ? res.statusCode : 499;
    record(this.active.metrics, status, performance.now() - this.start, this.bytesIn, this.bytesOut);
  }

  dropConnection(): void {
    const conn = this.conn;
    this.conn = null;
    conn?.destroy();
  }

  clearTimer(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  release(): void {
    const b = this.held;
    if (b) {
      this.held = null;
      b.inflight--;
      this.ctx.backends.released(b);
    }
  }
}

/** Forwards `req` to a backend of `active`; a declared too-large body gets 413 unread. */
export function proxyRequest(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  active: ActiveRoute,
): void {
  const headers = req.headers;
  const length = headers['content-length'];
  if (length !== undefined && Number(length) > ctx.opts.bodyLimit) {
    // The connection closes after the answer, so the body is never read either.
    recordNow(active.metrics, res, performance.now());
    sendPage(res, 413, `The request body is larger than ${ctx.opts.bodyLimit} bytes.`, true);
    return;
  }
  // Node has already refused requests with both framings or a malformed Content-Length.
  const body =
    headers['transfer-encoding'] !== undefined
      ? BodyMode.Chunked
      : length !== undefined && length !== '0'
        ? BodyMode.Length
        : BodyMode.None;
  new Exchange(ctx, req, res, active, body).attempt(null);
}

/** Records a request the router answers itself, when its response closes. */
export function recordNow(metrics: RawServiceMetrics, res: ServerResponse, start: number): void {
  res.once('close', () => {
    const status = res.headersSent ? res.statusCode : 499;
    record(metrics, status, performance.now() - start, 0, 0);
  });
}
