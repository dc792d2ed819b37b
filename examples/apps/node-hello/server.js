// The smallest useful GovHost app: an HTTP server on the port the platform gives it (PORT), a
// health endpoint for the manifest's http health check, and a slow endpoint for trying out the
// router's timeouts and load balancing. Node's standard library only, so there is nothing to install.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { hostname } from 'node:os';

const port = Number(process.env.PORT ?? 8080);
// A VERSION file, when the bundle has one, tells releases apart on the page.
let version = '';
try {
  version = readFileSync('VERSION', 'utf8').trim();
} catch {}
const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const page = () => `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Hello from GovHost</title></head>
<body>
  <h1>Hello from GovHost</h1>
  <p>Served by host <strong>${escapeHtml(hostname())}</strong>, process <strong>${process.pid}</strong>.</p>
  <p>Release <strong>${escapeHtml(process.env.GOVHOST_RELEASE ?? 'local')}</strong>${version ? `, version <strong>${escapeHtml(version)}</strong>` : ''}.</p>
</body>
</html>
`;

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
  } else if (url.pathname === '/slow') {
    // Capped so that a typo cannot hold a connection open for hours.
    const asked = Number(url.searchParams.get('ms') ?? 1000);
    const ms = Number.isFinite(asked) ? Math.min(Math.max(asked, 0), 120_000) : 1000;
    setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end(`waited ${ms} ms\n`), ms);
  } else if (url.pathname === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page());
  } else {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  }
});

server.listen(port, () => console.log(`node-hello listening on port ${port}, pid ${process.pid}`));

// The platform stops an instance with SIGTERM: finish the requests in flight, then exit.
process.on('SIGTERM', () => {
  console.log('node-hello stopping');
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
