import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { Framing } from './http1-response.ts';

/**
 * Writes a backend's response to the client with framing the client can read: Content-Length
 * bodies as they are, other bodies chunked for HTTP/1.1 clients and delimited by closing the
 * connection for HTTP/1.0 ones.
 *
 * The head, and body pieces that arrive with it, are held as one latin1 string until the
 * backend read that brought them has been handled (flush()), then go out in one write(): one
 * syscall per small response, and over TLS one record. A single string write skips the
 * cork/writev path of Node's streams, which cost more per response than the bytes themselves
 * (docs/benchmarks.md). Latin1 maps every byte to one character and back, so body bytes pass
 * through unchanged. Larger pieces are written as they come (corked until the flush).
 */

const LAST_CHUNK = '0\r\n\r\n';
/** Most text held for one write; beyond it body pieces are written as buffers. */
const HOLD_LIMIT = 16 * 1024;

enum Out {
  None = 0,
  Length = 1,
  Chunked = 2,
  UntilClose = 3,
}

/** The response side of one client connection. */
export class ResponseWriter {
  #out = Out.None;
  /** Between start() and flush(): writes are held (or corked) to go out together. */
  #holding = false;
  /** Text not yet written; always after everything already handed to the socket. */
  #held = '';
  #corked = false;

  constructor(private readonly socket: Socket) {}

  /**
   * Writes the status line and header lines (`Name: value\r\n` each). `close` adds
   * `Connection: close`; returns true when the connection must close after this response anyway
   * (an unframed body to an HTTP/1.0 client).
   */
  start(
    status: number,
    message: string,
    lines: string,
    framing: Framing,
    noBody: boolean,
    http10: boolean,
    close: boolean,
  ): boolean {
    let out: Out;
    let extra = '';
    if (noBody || status === 204 || status === 304 || framing === Framing.None) {
      out = Out.None;
    } else if (framing === Framing.Length) {
      out = Out.Length;
    } else if (http10) {
      out = Out.UntilClose;
      close = true;
    } else {
      out = Out.Chunked;
      extra = 'Transfer-Encoding: chunked\r\n';
    }
    if (close) extra += 'Connection: close\r\n';
    else if (http10) extra += 'Connection: keep-alive\r\n';
    this.#out = out;
    this.#holding = true;
    this.#held += `HTTP/1.1 ${status} ${message || STATUS_CODES[status] || 'Unknown'}\r\n${lines}${extra}\r\n`;
    return close;
  }

  /** Writes body bytes; false when the client is not keeping up (pause the source until 'drain'). */
  body(chunk: Buffer): boolean {
    if (chunk.length === 0 || this.#out === Out.None) return true;
    const socket = this.socket;
    if (this.#holding) {
      if (this.#held.length + chunk.length <= HOLD_LIMIT) {
        const text = chunk.toString('latin1');
        this.#held += this.#out === Out.Chunked ? `${chunk.length.toString(16)}\r\n${text}\r\n` : text;
        return !socket.writableNeedDrain;
      }
      // Too big to hold: what is held goes first, the rest follows in the same corked batch.
      if (!this.#corked) {
        this.#corked = true;
        socket.cork();
      }
      if (this.#held !== '') {
        socket.write(this.#held, 'latin1');
        this.#held = '';
      }
    }
    if (this.#out === Out.Chunked) {
      socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      socket.write(chunk);
      return socket.write('\r\n', 'latin1');
    }
    return socket.write(chunk);
  }

  end(): void {
    if (this.#out === Out.Chunked) {
      if (this.#holding) this.#held += LAST_CHUNK;
      else this.socket.write(LAST_CHUNK, 'latin1');
    }
    this.#out = Out.None;
  }

  /** Sends what is held now; to be called before anything else is written to the socket. */
  flush(): void {
    if (!this.#holding) return;
    this.#holding = false;
    if (this.#held !== '') {
      this.socket.write(this.#held, 'latin1');
      this.#held = '';
    }
    if (this.#corked) {
      this.#corked = false;
      this.socket.uncork();
    }
  }
}
