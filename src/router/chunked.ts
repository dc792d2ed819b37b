/**
 * Decoder for HTTP/1.1 chunked bodies (RFC 9112 §7.1), shared by the request and response
 * parsers. Strict: a size line must be hex digits (optionally `;extensions`) ending in CRLF,
 * and each chunk must end in CRLF, so the router and the backend cannot disagree on where a
 * message ends. Extensions and trailers are dropped; the router frames bodies anew.
 */

export class ChunkedError extends Error {}

const MAX_LINE = 4096;
const MAX_TRAILERS = 16 * 1024;
const SIZE_LINE = /^([0-9a-fA-F]{1,12})[ \t]*(;[^\r\n]*)?\r\n$/;

enum C {
  Size,
  Data,
  DataEnd,
  Trailers,
  Done,
}

/** Decodes one chunked body; `reset()` readies it for the next. */
export class ChunkedDecoder {
  #state = C.Size;
  #remaining = 0;
  #line = '';
  #trailerBytes = 0;

  reset(): void {
    this.#state = C.Size;
    this.#remaining = 0;
    this.#line = '';
    this.#trailerBytes = 0;
  }

  get done(): boolean {
    return this.#state === C.Done;
  }

  /**
   * Decodes from `buf` at `pos`, calling `onData(start, end)` for each run of body bytes in
   * `buf`; returns where it stopped (the end of `buf`, or just past the end of the body).
   */
  decode(buf: Buffer, pos: number, onData: (start: number, end: number) => void): number {
    while (pos < buf.length && this.#state !== C.Done) {
      if (this.#state === C.Data) {
        const n = Math.min(this.#remaining, buf.length - pos);
        this.#remaining -= n;
        onData(pos, pos + n);
        pos += n;
        if (this.#remaining === 0) this.#state = C.DataEnd;
        continue;
      }
      const nl = buf.indexOf(10, pos);
      const stop = nl === -1 ? buf.length : nl + 1;
      this.#line += buf.toString('latin1', pos, stop);
      if (this.#state === C.Trailers) this.#trailerBytes += stop - pos;
      pos = stop;
      if (this.#line.length > MAX_LINE || this.#trailerBytes > MAX_TRAILERS) {
        throw new ChunkedError('chunk line too long');
      }
      if (nl !== -1) this.#onLine();
    }
    return pos;
  }

  #onLine(): void {
    const line = this.#line;
    this.#line = '';
    if (line.length < 2 || line.charCodeAt(line.length - 2) !== 13)
      throw new ChunkedError('bare LF in chunked body');
    if (this.#state === C.DataEnd) {
      if (line !== '\r\n') throw new ChunkedError('missing CRLF after chunk');
      this.#state = C.Size;
    } else if (this.#state === C.Trailers) {
      if (line === '\r\n') this.#state = C.Done;
    } else {
      const m = SIZE_LINE.exec(line);
      if (!m) throw new ChunkedError('bad chunk size');
      const size = Number.parseInt(m[1]!, 16);
      if (size === 0) {
        this.#state = C.Trailers;
      } else {
        this.#remaining = size;
        this.#state = C.Data;
      }
    }
  }
}
