import { ApiError, CliError, usageError } from './errors.ts';

const TIMEOUT_MS = 60_000;
const USER_AGENT = 'govhost-cli/0.1.0';

export type Query = Record<string, string | number | boolean | undefined>;

/**
 * The address of a GovHost, as the CLI stores and compares it: scheme, host, port and any base
 * path, without a trailing slash. @example normaliseUrl('http://127.0.0.1:7070/') // 'http://127.0.0.1:7070'
 */
export function normaliseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError(`${JSON.stringify(raw)} is not a URL; give one such as http://127.0.0.1:7070`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw usageError(`the GovHost URL must start with http:// or https://, got ${JSON.stringify(raw)}`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

// The server's words reach the terminal: a control character must not reach it, nor a line break
// turn the one-line error into two.
const oneLine = (text: string) => text.replace(/\p{Cc}+/gu, ' ').trim();

/** The system error code behind a failed fetch, else its innermost message ("fetch failed" says nothing). */
function reasonOf(err: unknown): { code?: string; message: string } {
  let message = (err as Error).message;
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return { code, message };
    // Several addresses for one host (IPv4 and IPv6) fail together as an AggregateError.
    const inner = (e as { errors?: unknown[] }).errors?.[0];
    if (inner) return reasonOf(inner);
    if (e instanceof Error && e.message) message = e.message;
  }
  return { message };
}

function unreachable(url: string, err: unknown, timeoutMs: number): CliError {
  if ((err as Error).name === 'TimeoutError') {
    return new CliError(`GovHost at ${url} did not answer within ${timeoutMs / 1000} s`);
  }
  const { code, message } = reasonOf(err);
  if (code === 'ECONNREFUSED') return new CliError(`cannot reach GovHost at ${url}: is the server running?`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new CliError(`cannot reach GovHost at ${url}: the host name does not resolve`);
  }
  return new CliError(`cannot reach GovHost at ${url}: ${oneLine(code ?? message)}`);
}

/** A thin HTTP client for /api/v1: JSON in and out, every failure turned into a CliError. */
export class ApiClient {
  constructor(
    readonly url: string,
    private readonly token: string | null,
  ) {}

  get<T>(path: string, query: Query = {}): Promise<T> {
    return this.request<T>('GET', path, query);
  }

  /** `timeoutMs` for the few requests that do long work, e.g. verifying the whole audit chain. */
  post<T>(path: string, body?: unknown, timeoutMs = TIMEOUT_MS, query: Query = {}): Promise<T> {
    return this.request<T>('POST', path, query, body, timeoutMs);
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, {}, body);
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, {}, body);
  }

  delete<T = void>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }

  private async request<T>(
    method: string,
    path: string,
    query: Query = {},
    body?: unknown,
    timeoutMs = TIMEOUT_MS,
  ): Promise<T> {
    const target = new URL(`${this.url}/api/v1${path}`);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) target.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': USER_AGENT };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    // No body, no content type: fastify rejects an empty body declared as JSON.
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    let text: string;
    try {
      res = await fetch(target, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        // A redirect would resend the token elsewhere, or turn a POST into a GET: report it instead.
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      throw unreachable(this.url, err, timeoutMs);
    }
    return this.answer<T>(res, text, method, path);
  }

  /** Sends a file as the raw body (a bundle), calling `onSent` with the bytes sent so far. */
  async upload<T>(path: string, file: string, size: number, onSent: (bytes: number) => void): Promise<T> {
    const { createReadStream } = await import('node:fs');
    const { Readable } = await import('node:stream');
    let sent = 0;
    const source = createReadStream(file).on('data', (chunk) => {
      sent += chunk.length;
      onSent(sent);
    });
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': USER_AGENT,
      'content-type': 'application/gzip',
      'content-length': String(size),
    };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${this.url}/api/v1${path}`, {
        method: 'POST',
        headers,
        body: Readable.toWeb(source) as ReadableStream,
        redirect: 'manual',
        signal: AbortSignal.timeout(30 * 60_000),
        duplex: 'half',
      } as RequestInit);
      text = await res.text();
    } catch (err) {
      throw unreachable(this.url, err, 30 * 60_000);
    }
    return this.answer<T>(res, text, 'POST', path);
  }

  /** A GET whose text body is read as it arrives (logs); the caller reads `body`. */
  async stream(path: string, query: Query, signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const target = new URL(`${this.url}/api/v1${path}`);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) target.searchParams.set(k, String(v));
    const headers: Record<string, string> = { 'user-agent': USER_AGENT };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let res: Response;
    try {
      res = await fetch(target, { headers, redirect: 'manual', signal });
    } catch (err) {
      throw unreachable(this.url, err, TIMEOUT_MS);
    }
    if (!res.ok || !res.body) return this.answer(res, await res.text(), 'GET', path);
    return res.body;
  }

  /** Turns an answer into its JSON, or a problem into an ApiError. */
  private answer<T>(res: Response, text: string, method: string, path: string): T {
    if (res.status === 204) return undefined as T;
    let data: unknown;
    try {
      data = text === '' ? undefined : JSON.parse(text);
    } catch {
      data = undefined;
    }
    if (!res.ok) {
      const problem = (data ?? {}) as { detail?: unknown; code?: unknown };
      if (typeof problem.detail === 'string' && typeof problem.code === 'string') {
        throw new ApiError(res.status, oneLine(problem.code), oneLine(problem.detail));
      }
      const status = `${res.status} ${oneLine(res.statusText)}`.trim();
      const location = res.headers.get('location');
      // Most often http:// where the platform wants https://: say where to point --url instead.
      const moved = location ? ` pointing to ${oneLine(location)}; check --url` : '';
      throw new ApiError(
        res.status,
        `HTTP ${res.status}`,
        `GovHost at ${this.url} answered ${status}${moved}`,
      );
    }
    if (data === undefined) {
      throw new CliError(`${this.url} answered ${method} ${path} without JSON: is this a GovHost?`);
    }
    return data as T;
  }
}
