import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ERROR_CODES } from '../platform/errors.ts';
import type { InflightReport } from './balancer.ts';
import type { Log } from './log.ts';
import { BUCKETS_MS, type RawServiceMetrics, type ServiceSummary } from './metrics.ts';
import type { UpdateResult } from './route-store.ts';
import type { RouteTable } from './route-table.ts';
import { parseRouteTable } from './route-validate.ts';

/**
 * The router's admin API, on its own loopback port so it is never reachable through the
 * public listener. The control plane pushes route tables here and reads metrics and in-flight
 * counts (to drain an instance before stopping it). Every call needs the admin token.
 */

/** What the admin API reads and changes; single-process and clustered routers both provide it. */
export interface AdminSource {
  table(): RouteTable;
  update(table: RouteTable): Promise<UpdateResult>;
  metrics(): Promise<Record<string, ServiceSummary>>;
  /** The counters as recorded, added up over workers (what a metrics collector diffs). */
  rawMetrics(): Promise<Record<string, RawServiceMetrics>>;
  inflight(): Promise<InflightReport>;
  /** Extra facts for /healthz (the worker processes of a clustered router). */
  health?(): Record<string, unknown>;
}

// The router's own codes, beside the platform's shared ones; same `type` URN scheme.
const CODES = {
  ...ERROR_CODES,
  GOVHOST_ROUTE_TABLE_STALE: { status: 409, title: 'The route table is older than the one the router has' },
  GOVHOST_ROUTE_TABLE_CONFLICT: {
    status: 409,
    title: 'The router has a different route table with the same version',
  },
} as const;
type Code = keyof typeof CODES;

// Route tables for thousands of services fit easily; anything bigger is a mistake.
/** The largest route table the router takes, pushed or followed: nothing legitimate is close. */
export const MAX_TABLE_BYTES = 8 * 1024 * 1024;
const MAX_BODY = MAX_TABLE_BYTES;

function json(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': `${type}; charset=utf-8`,
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

function problem(res: ServerResponse, req: IncomingMessage, code: Code, detail: string, ext = {}): void {
  const { status, title } = CODES[code];
  const type = `urn:govhost:problem:${code
    .replace(/^GOVHOST_/, '')
    .toLowerCase()
    .replaceAll('_', '-')}`;
  const body = { type, title, status, detail, code, instance: req.url, ...ext };
  if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="govhost-router"');
  json(res, status, body, 'application/problem+json');
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time token check: comparing digests hides both content and length. */
function authorised(req: IncomingMessage, expected: Buffer): boolean {
  const h = req.headers.authorization;
  if (!h?.startsWith('Bearer ')) return false;
  return timingSafeEqual(digest(h.slice(7).trim()), expected);
}

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        req.removeAllListeners('data');
        resolve(null);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function putRoutes(req: IncomingMessage, res: ServerResponse, source: AdminSource): Promise<void> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) {
    return problem(res, req, 'GOVHOST_UNSUPPORTED_MEDIA_TYPE', 'send the route table as application/json');
  }
  const text = await readBody(req);
  if (text === null) {
    res.shouldKeepAlive = false;
    return problem(res, req, 'GOVHOST_BODY_TOO_LARGE', `the route table may be at most ${MAX_BODY} bytes`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return problem(res, req, 'GOVHOST_INVALID_JSON', (err as Error).message);
  }
  const parsed = parseRouteTable(raw);
  if (!parsed.ok) {
    return problem(res, req, 'GOVHOST_VALIDATION', parsed.errors.join('; '), { errors: parsed.errors });
  }
  const result = await source.update(parsed.table);
  const have = source.table().version;
  if (result === 'stale') {
    return problem(res, req, 'GOVHOST_ROUTE_TABLE_STALE', `version ${parsed.table.version} < ${have}`, {
      currentVersion: have,
    });
  }
  if (result === 'conflict') {
    return problem(res, req, 'GOVHOST_ROUTE_TABLE_CONFLICT', `version ${have} differs from the one held`, {
      currentVersion: have,
    });
  }
  json(res, 200, { version: have, changed: result === 'applied', routes: parsed.table.routes.length });
}

/** The table as the admin API shows it: private keys never leave the router, even to its token. */
function withoutKeys(t: RouteTable): RouteTable {
  if (!t.certificates) return t;
  return { ...t, certificates: t.certificates.map((c) => ({ ...c, key: '(held by the router)' })) };
}

async function handle(req: IncomingMessage, res: ServerResponse, source: AdminSource): Promise<void> {
  const [path, query = ''] = (req.url ?? '/').split('?');
  const method = req.method ?? 'GET';
  const allowed: Record<string, string[]> = {
    '/routes': ['GET', 'PUT'],
    '/metrics': ['GET'],
    '/inflight': ['GET'],
    '/healthz': ['GET'],
  };
  const methods = path === undefined ? undefined : allowed[path];
  if (!methods) return problem(res, req, 'GOVHOST_ROUTE_NOT_FOUND', `no admin endpoint ${path}`);
  if (!methods.includes(method)) {
    res.setHeader('Allow', methods.join(', '));
    return problem(res, req, 'GOVHOST_METHOD_NOT_ALLOWED', `${path} accepts ${methods.join(', ')}`);
  }
  if (path === '/routes' && method === 'PUT') return putRoutes(req, res, source);
  if (path === '/routes') return json(res, 200, withoutKeys(source.table()));
  if (path === '/metrics') {
    const raw = new URLSearchParams(query).get('raw');
    if (raw === '1' || raw === 'true')
      return json(res, 200, { buckets: BUCKETS_MS.map(String), services: await source.rawMetrics() });
    return json(res, 200, { services: await source.metrics() });
  }
  if (path === '/inflight') return json(res, 200, { backends: await source.inflight() });
  const t = source.table();
  json(res, 200, {
    status: 'ok',
    version: t.version,
    routes: t.routes.length,
    pid: process.pid,
    ...source.health?.(),
  });
}

export interface AdminServer {
  readonly server: Server;
  listen(host: string, port: number): Promise<number>;
  close(): Promise<void>;
}

/** Builds the admin listener; `token` is the shared secret the control plane sends as Bearer. */
export function createAdminServer(source: AdminSource, token: string, log: Log): AdminServer {
  const expected = digest(token);
  const server = createServer((req, res) => {
    if (!authorised(req, expected)) {
      const code = req.headers.authorization ? 'GOVHOST_TOKEN_INVALID' : 'GOVHOST_UNAUTHENTICATED';
      req.resume();
      return problem(res, req, code, 'send Authorization: Bearer <router admin token>');
    }
    handle(req, res, source).catch((err: Error) => {
      // Details stay in the log: the most likely cause is a state file the disk refused.
      log.error({ err: err.message, path: req.url }, 'admin request failed');
      if (!res.headersSent)
        problem(res, req, 'GOVHOST_INTERNAL', 'the router could not complete this request');
      else res.destroy();
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  return {
    server,
    listen: (host, port) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
