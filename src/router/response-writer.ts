import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { Framing } from './http1-response.ts';

/**
 * Writes a backend's response to the client with framing the client can read: Content-Length
 * bodies as they are, other bodies chunked for HTTP/1.1 clients and delimited by closing the
 * connection for HTTP/1.0 ones. The head waits (corked) for the first body bytes, so a small
 * response leaves in one write.
 */

const LAST_CHUNK = '0\r\n\r\n';

enum Out {
  None = 0,
  Length = 1,
  Chunked = 2,
  UntilClose = 3,
}

/** The response side of one client connection. */
export class ResponseWriter {
  #out = Out.None;
  #corked = false;

  constructor(private readonly socket: Socket) {}

  /**
   * Writes the status line and headers. `close` adds `Connection: close`; returns true when the
   * connection must close after this response anyway (an unframed body to an HTTP/1.0 client).
   */
  start(
    status: number,
    message: string,
    headers: string[],
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
    let s = `HTTP/1.1 ${status} ${message || STATUS_CODES[status] || 'Unknown'}\r\n`;
    for (let i = 0; i < headers.length; i += 2) s += `${headers[i]}: ${headers[i + 1]}\r\n`;
    this.#out = out;
    // Corked until the backend read that brought this head has been handled (see flush()).
    if (!this.#corked) {
      this.#corked = true;
      this.socket.cork();
    }
    this.socket.write(`${s}${extra}\r\n`, 'latin1');
    return close;
  }

  /** Writes body bytes; false when the client is not keeping up (pause the source until 'drain'). */
  body(chunk: Buffer): boolean {
    if (chunk.length === 0 || this.#out === Out.None) return true;
    if (this.#out === Out.Chunked) {
      this.socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      this.socket.write(chunk);
      return this.socket.write('\r\n', 'latin1');
    }
    return this.socket.write(chunk);
  }

  end(): void {
    if (this.#out === Out.Chunked) this.socket.write(LAST_CHUNK, 'latin1');
    this.#out = Out.None;
  }

  /** Sends what is buffered now. */
  flush(): void {
    if (this.#corked) {
      this.#corked = false;
      this.socket.uncork();
    }
  }
}
