import { connect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ResponseParseError, ResponseParser, type ResponseSink } from './http1-response.ts';

/**
 * Keep-alive connections to one backend, and the connection object that carries one request at
 * a time over them. Opening a TCP connection per request would cost more than the proxying,
 * so finished connections go back to an idle list (newest first, so a few stay hot and the
 * rest age out) and are closed before the backend's own keep-alive timeout would.
 */

/** Whoever uses a connection: gets the response through the sink methods, or a failure. */
export interface UpstreamUser extends ResponseSink {
  /** `beforeResponse`: no byte of a response arrived, so an idempotent request may be retried. */
  onUpstreamError(err: NodeJS.ErrnoException, beforeResponse: boolean): void;
  /** After each read is handled: lets the user send what it wrote meanwhile in one go. */
  flush(): void;
}

/** Waits for a connection from the pool. */
export interface Waiter {
  /** False once the waiter gave up (timeout, client gone): a connection goes back to the pool. */
  readonly wantsConnection: boolean;
  onConnection(err: NodeJS.ErrnoException | null, conn: UpstreamConn | null): void;
}

export interface PoolOptions {
  maxSockets: number;
  connectTimeoutMs: number;
  /** Longest an idle connection is kept, whatever the backend's hint. */
  maxIdleMs: number;
  /** Connect over TLS, verifying the certificate (a legacy upstream of a cut-over); null: plain TCP. */
  tls?: UpstreamTls | null;
}

/** How the router connects to an HTTPS upstream as a TLS client. */
export interface UpstreamTls {
  /** The name the certificate must carry (and the SNI, unless it is an address). */
  servername: string;
  /** PEM CA certificates to trust instead of Node's roots. */
  ca?: string;
}

function codedError(message: string, code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

// Every upstream socket reads into this one buffer (net's `onread` option): no allocation and
// no stream machinery per read. Safe because reads are handled synchronously and the parser
// copies whatever must outlive the callback.
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** One keep-alive connection to a backend, carrying one request at a time. */
export class UpstreamConn {
  readonly parser = new ResponseParser();
  user: UpstreamUser | null = null;
  /** Requests sent on this connection; above 1 it was reused from the pool. */
  uses = 0;
  idleSince = 0;
  #closed = false;

  constructor(
    readonly pool: UpstreamPool,
    readonly socket: Socket,
  ) {
    socket.on('error', (e: NodeJS.ErrnoException) => this.#onClose(e));
    socket.on('close', () => this.#onClose(null));
  }

  get usable(): boolean {
    const s = this.socket;
    return !this.#closed && s.writable && !s.readableEnded;
  }

  /** Sends a request head; the response goes to `user`. */
  send(user: UpstreamUser, head: string, headRequest: boolean, upgrade = false): void {
    this.user = user;
    this.uses++;
    this.parser.reset(user, headRequest, upgrade);
    this.socket.write(head, 'latin1');
  }

  /** The user is done: the connection returns to the pool when its framing is intact. */
  done(requestComplete: boolean): void {
    this.user = null;
    if (requestComplete && this.parser.complete && this.parser.keepAlive && this.usable) {
      // Paused while the last client was slow to read: the next user must get its answer.
      if (this.socket.isPaused()) this.socket.resume();
      this.pool.release(this);
    } else {
      this.destroy();
    }
  }

  /** Closes the connection without telling its user (who has given up on it). */
  destroy(): void {
    this.user = null;
    this.socket.destroy();
  }

  /** Bytes read into the shared buffer (see READ_BUFFER). */
  onRead(d: Buffer): void {
    const user = this.user;
    if (!user) {
      // Bytes on an idle connection: the backend broke framing; never hand this one out again.
      this.destroy();
      return;
    }
    try {
      this.parser.execute(d, true);
    } catch (err) {
      this.destroy();
      // A parse error is the backend's fault (502); anything else is ours, and must not
      // escape into the event loop and end the process.
      if (!(err instanceof ResponseParseError)) this.pool.onBug?.(err as Error);
      try {
        user.onUpstreamError(err as NodeJS.ErrnoException, false);
      } catch (again) {
        this.pool.onBug?.(again as Error);
      }
    }
    user.flush();
  }

  #onClose(err: NodeJS.ErrnoException | null): void {
    if (this.#closed) return;
    this.#closed = true;
    this.socket.destroy();
    this.pool.forget(this);
    const user = this.user;
    this.user = null;
    if (!user) return;
    try {
      if (!err && this.parser.finishOnClose()) return;
      user.onUpstreamError(err ?? codedError('socket hang up', 'ECONNRESET'), !this.parser.started);
    } catch (bug) {
      this.pool.onBug?.(bug as Error);
    }
  }
}

/** The connections to one backend: idle ones reused newest first, at most `maxSockets` open. */
export class UpstreamPool {
  readonly #idle: UpstreamConn[] = [];
  readonly #waiters: Waiter[] = [];
  #open = 0;
  #destroyed = false;
  /** Told about unexpected exceptions while handling this pool's responses. */
  onBug: ((err: Error) => void) | null = null;

  constructor(
    readonly hostname: string,
    readonly port: number,
    private readonly opts: PoolOptions,
  ) {}

  /** Calls `w.onConnection` with an idle connection, a new one, or (at the limit) when one frees up. */
  acquire(w: Waiter): void {
    if (this.#destroyed) {
      w.onConnection(codedError('backend removed', 'ECONNREFUSED'), null);
      return;
    }
    while (this.#idle.length > 0) {
      const c = this.#idle.pop()!;
      if (c.usable) {
        w.onConnection(null, c);
        return;
      }
      c.destroy();
    }
    if (this.#open < this.opts.maxSockets) this.#connect(w);
    else this.#waiters.push(w);
  }

  release(c: UpstreamConn): void {
    if (this.#destroyed) {
      c.destroy();
      return;
    }
    while (this.#waiters.length > 0) {
      const w = this.#waiters.shift()!;
      if (w.wantsConnection) {
        w.onConnection(null, c);
        return;
      }
    }
    c.idleSince = Date.now();
    this.#idle.push(c);
  }

  /** A connection closed: make room for a waiter. */
  forget(c: UpstreamConn): void {
    this.#open--;
    const i = this.#idle.indexOf(c);
    if (i !== -1) this.#idle.splice(i, 1);
    while (this.#waiters.length > 0 && this.#open < this.opts.maxSockets) {
      const w = this.#waiters.shift()!;
      if (w.wantsConnection) {
        this.#connect(w);
        return;
      }
    }
  }

  /** Closes idle connections before the backend's keep-alive timeout can race a new request. */
  sweep(now: number): void {
    for (let i = this.#idle.length - 1; i >= 0; i--) {
      const c = this.#idle[i]!;
      const hint = c.parser.idleHintMs;
      const limit = hint > 1000 ? Math.min(hint - 1000, this.opts.maxIdleMs) : this.opts.maxIdleMs;
      if (now - c.idleSince >= limit) c.destroy(); // its 'close' removes it from the list
    }
  }

  get idleCount(): number {
    return this.#idle.length;
  }

  destroy(): void {
    this.#destroyed = true;
    for (const c of [...this.#idle]) c.destroy();
    const waiters = this.#waiters.splice(0);
    for (const w of waiters) {
      if (w.wantsConnection) w.onConnection(codedError('backend removed', 'ECONNREFUSED'), null);
    }
  }

  #connect(w: Waiter): void {
    this.#open++;
    let conn: UpstreamConn | null = null;
    const onread = {
      buffer: READ_BUFFER,
      callback: (n: number, buf: Uint8Array) => {
        conn?.onRead((buf as Buffer).subarray(0, n));
        return true;
      },
    };
    const tls = this.opts.tls;
    // A TLS upstream is verified (rejectUnauthorized is the default): a cut-over must not turn
    // citizens' traffic over to whoever answers on the legacy address.
    const socket = tls
      ? tlsConnect({
          host: this.hostname,
          port: this.port,
          // No SNI for an address (RFC 6066 §3); the certificate is still checked against it.
          ...(isIP(tls.servername) ? {} : { servername: tls.servername }),
          ...(tls.ca ? { ca: tls.ca } : {}),
          ALPNProtocols: ['http/1.1'],
        })
      : connect({ host: this.hostname, port: this.port, onread });
    // TLS reads its own records: decrypted data comes as ordinary 'data' events.
    if (tls) socket.on('data', (d: Buffer) => conn?.onRead(d));
    socket.setNoDelay(true);
    const timer = setTimeout(
      () => socket.destroy(codedError('connect timeout', 'ECONNTIMEOUT')),
      this.opts.connectTimeoutMs,
    );
    const onError = (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      this.#open--;
      if (w.wantsConnection) w.onConnection(err, null);
    };
    socket.once('error', onError);
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      conn = new UpstreamConn(this, socket);
      if (w.wantsConnection) w.onConnection(null, conn);
      else this.release(conn);
    });
  }
}
