import type { BackendState } from './balancer.ts';
import type { ClientConnection } from './client-conn.ts';
import { BodyMode, upstreamHead } from './headers.ts';
import type { RequestHead } from './http1-request.ts';
import type { ResponseParser } from './http1-response.ts';
import { record } from './metrics.ts';
import type { ActiveRoute } from './route-index.ts';
import type { UpstreamConn, UpstreamUser, Waiter } from './upstream.ts';

// Methods that change nothing when sent twice (RFC 9110 §9.2.2) and carry no body in
// practice: these are retried once on another backend when the first could not be reached.
const RETRYABLE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ECONNTIMEOUT']);
const LAST_CHUNK = '0\r\n\r\n';

/**
 * One request on its way to a backend and back: picks a backend, sends the head and body over
 * a pooled connection, relays the response to the client connection, retries or answers with
 * the router's own page when the backend fails.
 */
export class Exchange implements UpstreamUser, Waiter {
  conn: UpstreamConn | null = null;
  /** Backend counting this request as in flight, until the attempt ends. */
  held: BackendState | null = null;
  timer: NodeJS.Timeout | null = null;
  #upHead = '';
  bytesIn = 0;
  bytesOut = 0;
  retried = false;
  /** Times the head went to a backend (a retry after a reset may send it twice). */
  sends = 0;
  waiting = false;
  responded = false;
  /** Status the backend answered, once it has. */
  status = 0;
  bodySent: boolean;
  /** The client has its answer (or left): later events only tidy up. */
  over = false;

  constructor(
    readonly down: ClientConnection,
    readonly head: RequestHead,
    readonly active: ActiveRoute,
    readonly body: BodyMode,
    readonly start: number,
  ) {
    this.bodySent = body === BodyMode.None;
  }

  get wantsConnection(): boolean {
    return this.waiting && !this.over;
  }

  /** Sends the request to the next backend of the route, skipping `exclude`. */
  attempt(exclude: BackendState | null): void {
    const pool = this.active.pool;
    const b = pool.pick(exclude ?? undefined);
    if (!b) {
      const none = pool.backends.length === 0;
      this.fail(none ? 503 : 502, none ? undefined : 'The service could not be reached.');
      return;
    }
    this.held = b;
    b.inflight++;
    this.timer ??= setTimeout(() => this.onTimeout(), this.down.ctx.opts.upstreamTimeoutMs);
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
    if (this.#upHead === '') {
      const ctx = this.down.ctx;
      const route = this.active.route;
      const key = route.kind === 'static' ? ctx.staticKey : route.platform ? ctx.platformKey : '';
      this.#upHead = upstreamHead(this.head, this.down, ctx.opts, this.body, null, key);
    }
    this.sends++;
    conn.send(this, this.#upHead, this.head.method === 'HEAD');
    if (this.body !== BodyMode.None) this.down.startBody();
  }

  onRequestBody(chunk: Buffer): void {
    const conn = this.conn;
    if (!conn || this.over) return;
    this.bytesIn += chunk.length;
    const limit = this.down.ctx.opts.bodyLimit;
    if (this.bytesIn > limit) {
      this.dropConnection();
      this.fail(413, `The request body is larger than ${limit} bytes.`);
      return;
    }
    // The upstream deadline counts from the last sign of progress: a long upload is not a slow backend.
    this.timer?.refresh();
    const socket = conn.socket;
    let ok: boolean;
    if (this.body === BodyMode.Chunked) {
      socket.cork();
      socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      socket.write(chunk);
      ok = socket.write('\r\n', 'latin1');
      socket.uncork();
    } else {
      ok = socket.write(chunk);
    }
    if (!ok) {
      this.down.pauseBody();
      // Only for this exchange: the connection may serve another request by the time it drains.
      socket.once('drain', () => {
        if (this.conn === conn && !this.over) this.down.resumeBody();
      });
    }
  }

  onRequestBodyEnd(): void {
    if (!this.conn || this.over) return;
    if (this.body === BodyMode.Chunked) this.conn.socket.write(LAST_CHUNK, 'latin1');
    this.bodySent = true;
    this.timer?.refresh();
  }

  /** The client's chunked framing was malformed: nothing more can be read from it. */
  onRequestBodyBroken(): void {
    this.dropConnection();
    this.fail(400);
  }

  onHead(p: ResponseParser): void {
    this.clearTimer();
    if (this.over) return;
    this.responded = true;
    this.status = p.status;
    this.down.startResponse(p, this.head.method === 'HEAD');
  }

  onBody(chunk: Buffer): void {
    if (this.over) return;
    this.bytesOut += chunk.length;
    if (!this.down.writeBody(chunk)) this.conn?.socket.pause();
  }

  onClientDrain(): void {
    this.conn?.socket.resume();
  }

  onComplete(): void {
    const conn = this.conn;
    this.conn = null;
    this.release();
    conn?.done(this.bodySent);
    if (this.over) return;
    this.over = true;
    this.finish();
    this.down.endResponse();
  }

  /** Called after each read from the backend is handled: sends what was written meanwhile. */
  flush(): void {
    this.down.flush();
  }

  onUpstreamError(err: NodeJS.ErrnoException, beforeResponse: boolean, reused = true): void {
    const conn = this.conn;
    this.conn = null;
    const b = this.held;
    this.release();
    if (this.over) return;
    if (this.responded) {
      // The backend broke off mid-body: all the client can be told is a cut connection.
      this.active.metrics.aborted++;
      this.over = true;
      this.finish();
      this.down.flush();
      this.down.abort();
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
    if (retryable && !this.retried && RETRYABLE_METHODS.has(this.head.method)) {
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

  /** Answers with the router's own page (the client connection closes if the body was left unread). */
  fail(status: number, detail?: string): void {
    if (this.over) return;
    this.over = true;
    this.clearTimer();
    if (this.responded) {
      this.finish();
      this.down.flush();
      this.down.abort();
      return;
    }
    this.finish(status);
    this.down.page(this.head, status, detail, null, this.start, { close: this.down.bodyUnread });
  }

  /** The client went away: stop the backend's work for it; the half-used connection is dropped. */
  onClientClose(): void {
    if (this.over) return;
    this.over = true;
    this.active.metrics.aborted++;
    this.clearTimer();
    this.dropConnection();
    this.release();
    // 499 (nginx's "client closed request") when no status was sent.
    this.finish(this.responded ? this.status : 499);
  }

  /** Counts the request (once: callers set `over` first); by default with the backend's status. */
  finish(status = this.status): void {
    record(this.active.metrics, status, performance.now() - this.start, this.bytesIn, this.bytesOut);
    const h = this.head;
    this.down.ctx.onRequest?.({
      service: this.active.route.service,
      method: h.method,
      target: h.target,
      status,
      bytesIn: this.bytesIn,
      forwarded: this.sends,
    });
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
      this.down.ctx.backends.released(b);
    }
  }
}
