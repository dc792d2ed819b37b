import { realpath } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, sep } from 'node:path';
import send from 'send';
import { record } from './metrics.ts';
import { sendPage } from './pages.ts';
import type { ActiveRoute } from './route-index.ts';

/**
 * Serves a `static` route's files. `send` does the HTTP side (ranges, ETag, conditional
 * requests, content types) and refuses `..` in paths; the realpath check here also stops a
 * symlink inside a department's bundle from reaching files outside its folder.
 */
export function serveStatic(req: IncomingMessage, res: ServerResponse, active: ActiveRoute): void {
  const start = performance.now();
  res.once('close', () => {
    const status = res.headersSent ? res.statusCode : 499;
    if (!res.writableFinished) active.metrics.aborted++;
    const length = Number(res.getHeader('content-length') ?? 0);
    record(active.metrics, status, performance.now() - start, 0, res.writableFinished ? length : 0);
  });
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    sendPage(res, 405);
    return;
  }
  const root = active.route.staticRoot!;
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (!path.startsWith('/')) {
    sendPage(res, 400);
    return;
  }
  insideRoot(root, path).then(
    (inside) => {
      if (!inside) {
        sendPage(res, 404);
        return;
      }
      const stream = send(req, path, { root, index: ['index.html'], dotfiles: 'ignore' });
      stream.on('error', (err: { status?: number; statusCode?: number }) => {
        const status = err.status ?? err.statusCode ?? 500;
        // Forbidden paths (`..`) answer as 403; everything missing or hidden as the plain 404.
        sendPage(res, status === 403 ? 403 : status >= 500 ? 500 : 404);
      });
      stream.pipe(res);
    },
    () => sendPage(res, 500),
  );
}

/**
 * False when the path resolves (through symlinks) outside the route's folder. A path that does
 * not exist is "inside": `send` answers it with 404, and does its own `..` check before any
 * file is opened.
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
