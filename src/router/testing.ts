/**
 * Helpers for the router's tests: real HTTP backends on 127.0.0.1:0, a router started
 * in-process, and small clients. Nothing here sleeps: waits are on events or bounded polls.
 */
import { once } from 'node:events';
import {
  type Agent,
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { silentLog } from './log.ts';
import type { Route, RouteTable } from './route-table.ts';
import { type RouterOptions, type RunningRouter, startRouter } from './router.ts';

export const TOKEN = 'test-admin-token-0123456789';

export interface TestBackend {
  readonly id: string;
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /** Requests this backend has seen. */
  hits: number;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Answers with JSON naming itself and echoing what it received, unless given a handler. */
export async function startBackend(id: string, handler?: Handler): Promise<TestBackend> {
  const backend = { id, hits: 0 } as TestBackend & { hits: number };
  const server = createServer((req, res) => {
    backend.hits++;
    if (handler) return handler(req, res);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.stringify({
        id,
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return Object.assign(backend, {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}

/** A port that was free a moment ago: for a backend that is "down" (connection refused). */
export async function deadPort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export function startTestRouter(opts: Partial<RouterOptions> = {}): Promise<RunningRouter> {
  return startRouter({ port: 0, adminPort: 0, adminToken: TOKEN, statePath: null, log: silentLog, ...opts });
}

export function proxyRoute(
  hostname: string,
  backends: { id: string; url: string }[],
  service?: string,
): Route {
  return { hostname, service: service ?? `TEST/${hostname.split('.')[0]}`, kind: 'proxy', backends };
}

let version = 1;
/** PUTs a table with a fresh, higher version; returns the admin answer. */
export async function putRoutes(
  router: RunningRouter,
  routes: Route[],
  v = version++,
): Promise<{ status: number; body: unknown }> {
  return admin(router, 'PUT', '/routes', { version: v, routes } satisfies RouteTable);
}

export async function admin(
  router: { adminPort: number },
  method: string,
  path: string,
  body?: unknown,
  token: string | null = TOKEN,
  // biome-ignore lint/suspicious/noExplicitAny: tests read admin JSON loosely, field by field
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`http://127.0.0.1:${router.adminPort}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Local port of the client's socket: equal across requests means the connection was reused. */
  localPort: number;
}

export interface Ask {
  host: string;
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  agent?: Agent | false;
}

/** One request through the router's public port. */
export function ask(port: number, a: Ask): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: a.path ?? '/',
        method: a.method ?? 'GET',
        headers: { host: a.host, ...a.headers },
        agent: a.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
            localPort: req.socket?.localPort ?? 0,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(a.body);
  });
}

/** Polls `check` until it returns a truthy value, for at most `ms`; no fixed sleeps. */
export async function waitFor<T>(check: () => Promise<T> | T, ms = 5000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface RawClient {
  socket: Socket;
  /** Everything received so far, as latin1. */
  text: () => string;
  closed: Promise<unknown>;
}

/** A raw TCP client to the router: what it sends is exactly what the router gets. */
export async function openRaw(port: number): Promise<RawClient> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let received = '';
  socket.on('data', (d) => {
    received += d.toString('latin1');
  });
  socket.on('error', () => {});
  return { socket, text: () => received, closed: once(socket, 'close') };
}

/** How many times `what` occurs in `text`. */
export const count = (text: string, what: string) => text.split(what).length - 1;

/** Small seeded generator (mulberry32): the same cases on every run, so a failure can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One to four random edits of `text`: an insertion from `nasty`, a deletion, or upper-casing. */
export function mutate(rnd: () => number, text: string, nasty: readonly string[]): string {
  let s = text;
  const edits = 1 + Math.floor(rnd() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(rnd() * s.length);
    const kind = rnd();
    if (kind < 0.4) s = s.slice(0, at) + nasty[Math.floor(rnd() * nasty.length)] + s.slice(at);
    else if (kind < 0.7) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(rnd() * 5));
    else s = s.slice(0, at) + s.slice(at, at + 8).toUpperCase() + s.slice(at + 8);
  }
  return s;
}
