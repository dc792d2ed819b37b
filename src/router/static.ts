import { realpath } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, sep } from 'node:path';
import send from 'send';
import { hostOf } from './headers.ts';
import { pageHtml } from './pages.ts';
import type { RouteIndex } from './route-index.ts';

/**
 * The internal file server for `static` routes, on a loopback port of its own. The router
 * forwards static requests to it like to any backend (same metrics, limits and framing), so
 * `send` can do the HTTP side (ranges, ETag, conditional requests, content types) with Node's
 * request and response objects. It only answers requests carrying the router's key.
 */
export const STATIC_KEY_HEADER = 'x-govhost-static-key';

function page(res: ServerResponse, status: number): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const html = pageHtml(status);
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
  });
  res.end(res.req.method === 'HEAD' ? undefined : html);
}

function serve(req: IncomingMessage, res: ServerResponse, root: string): void {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (!path.startsWith('/')) {
    page(res, 400);
    return;
  }
  insideRoot(root, path).then(
    (inside) => {
      if (!inside) {
        page(res, 404);
        return;
      }
      const stream = send(req, path, { root, index: ['index.html'], dotfiles: 'ignore' });
      stream.on('error', (err: { status?: number; statusCode?: number }) => {
        const status = err.status ?? err.statusCode ?? 500;
        // Forbidden paths (`..`) answer 403; everything missing or hidden the plain 404.
        page(res, status === 403 ? 403 : status >= 500 ? 500 : 404);
      });
      stream.pipe(res);
    },
    () => page(res, 500),
  );
}

/**
 * False when the path resolves (through symlinks) outside the route's folder: a symlink in a
 * department's bundle must not reach other files. A path that does not exist is "inside":
 * `send` answers it with 404, after its own `..` check.
 */
async function insideRoot(root: string, urlPath: string): Promise<boolean> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return true; // send answers a malformed path with 400
  }
  if (decoded.includes('\0')) return false;
  const realRoot = await realpath(root).catch(() => root);
  const candidates = [join(root, decoded)];
  if (decoded.endsWith('/')) candidates.push(join(root, decoded, 'index.html'));
  for (const candidate of candidates) {
    let real: string;
    try {
      real = await realpath(candidate);
    } catch {
      continue;
    }
    if (real !== realRoot && !real.startsWith(realRoot + sep)) return false;
  }
  return true;
}

export interface StaticServer {
  readonly server: Server;
  /** Starts listening on loopback; resolves with the URL to forward to. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** The file server for the static routes of `index`; `key` must come with every request. */
export function createStaticServer(index: RouteIndex, key: string): StaticServer {
  const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const route = index.lookup(hostOf(req.headers.host))?.route;
    if (req.headers[STATIC_KEY_HEADER] !== key) page(res, 403);
    else if (req.method !== 'GET' && req.method !== 'HEAD') page(res, 405);
    else if (route?.kind !== 'static' || !route.staticRoot) page(res, 404);
    else serve(req, res, route.staticRoot);
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  return {
    server,
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        // `exclusive`: in a cluster worker, a plain listen(0) would share one port with every
        // sibling's file server (node:cluster hands each accepted connection to any of them),
        // and a sibling answers this worker's key with 403 on a kept-alive connection.
        server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
          server.off('error', reject);
          resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
