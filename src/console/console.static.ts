import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../platform/errors.ts';

/** Where `npm run build:console` (run by `npm ci` through `prepare`) writes the console. */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../console/dist', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

// The console needs nothing from elsewhere; saying so blunts any injected markup.
const CSP = [
  "default-src 'self'",
  "img-src 'self' data:",
  "style-src 'self'",
  "script-src 'self'",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

async function fileIn(root: string, urlPath: string): Promise<string | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const path = normalize(join(root, decoded));
  if (!path.startsWith(root + sep)) return null;
  if (path.split(sep).some((part) => part.startsWith('.'))) return null;
  try {
    return (await stat(path)).isFile() ? path : null;
  } catch {
    return null;
  }
}

async function sendFile(req: FastifyRequest, reply: FastifyReply, path: string, immutable: boolean) {
  const body = await readFile(path);
  const etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
  reply
    .header('content-type', TYPES[extname(path)] ?? 'application/octet-stream')
    .header('etag', etag)
    .header('x-content-type-options', 'nosniff')
    // Vite names built assets by their hash; everything else (index.html) must be revalidated.
    .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  if (extname(path) === '.html') {
    reply
      .header('content-security-policy', CSP)
      .header('referrer-policy', 'same-origin')
      .header('x-frame-options', 'DENY');
  }
  if (req.headers['if-none-match'] === etag) return reply.status(304).send();
  return reply.send(body);
}

/**
 * Serves the built console at `/`: a file of the build when one matches the path, else
 * index.html, so that the console's own paths (/services/IRD/etax) load the app on a reload.
 * Routes the platform registers itself (/api/v1, /status, /metrics, /healthz) win over this one.
 */
export function registerConsole(app: FastifyInstance, dir: string = DEFAULT_CONSOLE_DIR): void {
  const root = normalize(dir);
  app.get('/*', { config: { public: true }, schema: { hide: true } }, async (req, reply) => {
    const urlPath = req.url.split('?')[0] ?? '/';
    if (urlPath.startsWith('/api/')) {
      throw new DomainError('GOVHOST_ROUTE_NOT_FOUND', `no endpoint ${req.method} ${urlPath}`);
    }
    const file = urlPath === '/' ? null : await fileIn(root, urlPath);
    if (file) return sendFile(req, reply, file, urlPath.startsWith('/assets/'));
    // A missing asset is a 404, not the app: a stale page asking for an old hash must not get HTML.
    if (urlPath.startsWith('/assets/')) {
      throw new DomainError('GOVHOST_NOT_FOUND', `no file ${urlPath}`);
    }
    const index = await fileIn(root, '/index.html');
    if (!index) {
      return reply
        .status(503)
        .type('text/plain; charset=utf-8')
        .send('The web console is not built: run `npm run build:console` (npm ci does it).\n');
    }
    return sendFile(req, reply, index, false);
  });
}
