import { ChunkedDecoder, ChunkedError } from './chunked.ts';
import type { Exchange } from './proxy.ts';

/**
 * The body of the request in progress, read from the client connection and handed to the
 * exchange piece by piece: a Content-Length count, or chunks decoded strictly.
 */
export class RequestBody {
  #remaining: number;
  readonly #chunks: ChunkedDecoder | null;
  /** Not read while the exchange waits for a backend connection or the backend is not keeping up. */
  paused = true;
  done = false;
  /** The chunked framing was malformed: nothing more can be read from this connection. */
  broken = false;

  constructor(
    readonly exchange: Exchange,
    contentLength: number,
    chunked: boolean,
  ) {
    this.#remaining = contentLength;
    this.#chunks = chunked ? new ChunkedDecoder() : null;
  }

  /** Passes the body bytes of `buf` from `pos` to the exchange; returns where the body ended. */
  feed(buf: Buffer, pos: number): number {
    const ex = this.exchange;
    if (this.#chunks) {
      try {
        pos = this.#chunks.decode(buf, pos, (a, b) => {
          if (!ex.over) ex.onRequestBody(buf.subarray(a, b));
        });
      } catch (err) {
        if (!(err instanceof ChunkedError)) throw err;
        this.broken = true;
        return buf.length;
      }
      this.done = this.#chunks.done;
      return pos;
    }
    const n = Math.min(this.#remaining, buf.length - pos);
    this.#remaining -= n;
    if (!ex.over) ex.onRequestBody(pos === 0 && n === buf.length ? buf : buf.subarray(pos, pos + n));
    this.done = this.#remaining === 0;
    return pos + n;
  }
}
