// An Express app as a department would write it: its dependencies are declared in package.json
// and package-lock.json, not shipped, and the platform installs them when it stages the bundle.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import express from 'express';

const port = Number(process.env.PORT ?? 8080);
const app = express();

// Written by `npm run build` (build.js) at deploy; absent when the build did not run.
function buildInfo() {
  try {
    return JSON.parse(readFileSync('dist/build-info.json', 'utf8'));
  } catch {
    return null;
  }
}

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

app.get('/healthz', (_req, res) => res.type('text/plain').send('ok\n'));

app.get('/build-info', (_req, res) => {
  const info = buildInfo();
  if (info) res.json(info);
  else res.status(404).json({ error: 'the build step has not run' });
});

app.get('/api/greeting', (req, res) => {
  const name = typeof req.query.name === 'string' && req.query.name.trim() ? req.query.name.trim() : 'world';
  res.json({ greeting: `Hello, ${name.slice(0, 100)}!` });
});

app.get('/', (_req, res) => {
  const info = buildInfo();
  res.type('html').send(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Hello from GovHost</title></head>
<body>
  <h1>Hello from GovHost</h1>
  <p>An Express app, served by host <strong>${escapeHtml(hostname())}</strong>, process <strong>${process.pid}</strong>.</p>
  <p>${info ? `Built ${escapeHtml(info.builtAt)} with Express ${escapeHtml(info.express)}.` : 'Not built.'}</p>
</body>
</html>
`);
});

const server = app.listen(port, () =>
  console.log(`node-express listening on port ${port}, pid ${process.pid}`),
);

// The platform stops an instance with SIGTERM: finish the requests in flight, then exit.
process.on('SIGTERM', () => {
  console.log('node-express stopping');
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
