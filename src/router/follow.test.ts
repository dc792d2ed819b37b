import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { until } from '../test-support/until.ts';
import { silentLog } from './log.ts';
import type { RouteTable } from './route-table.ts';
import { type RunningRouter, startRouter } from './router.ts';

/** Listens on a loopback port with `handler`; resolves with the server and its URL. */
async function serve(handler: http.RequestListener) {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const get = (port: number, host: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', headers: { host }, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });

describe('a router following the control plane', () => {
  const dir = mkdtempSync(join(tmpdir(), 'govhost-follow-'));
  const closers: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const c of closers.reverse()) await c();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies each new table, refuses bad ones, and keeps the last across an outage and its own restart', async () => {
    const backend = await serve((_req, res) => res.end('from the backend'));
    closers.push(() => {
      const done = new Promise((r) => backend.server.close(r));
      backend.server.closeAllConnections();
      return done;
    });
    // A stand-in for GET /api/v1/runtime/routes (the real endpoint is exercised end to end by
    // test/e2e/replicas.test.ts): it answers the current table when newer than `after`, else 204.
    let table: unknown = { version: 0, routes: [] };
    const seen: string[] = [];
    let cp = await serve((req, res) => {
      seen.push(req.headers.authorization ?? '');
      const after = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('after'));
      const t = table as RouteTable;
      if (t.version > after) return res.setHeader('content-type', 'application/json').end(JSON.stringify(t));
      setTimeout(() => res.writeHead(204).end(), 100);
    });
    const opts = (url: string) => ({
      port: 0,
      adminPort: 0,
      adminToken: 'a'.repeat(24),
      statePath: join(dir, 'routes.json'),
      workers: 0,
      controlPlane: { url, token: 'ghk_router-token' },
      log: silentLog,
    });
    let router: RunningRouter = await startRouter(opts(cp.url));
    const route = (version: number, hostname: string) => ({
      version,
      routes: [{ hostname, service: 'D/s', kind: 'proxy', backends: [{ id: 'i1', url: backend.url }] }],
    });
    table = route(10, 'a.example');
    const changed = Date.now();
    await until(
      'the first table served',
      async () => (await get(router.port, 'a.example')).status === 200,
      5_000,
    );
    assert.ok(Date.now() - changed < 1_000, 'followed within a second');
    assert.ok(seen.every((h) => h === 'Bearer ghk_router-token'));
    // An invalid table (a backend that is not a URL) is not applied: the last one keeps serving.
    table = {
      version: 11,
      routes: [
        { hostname: 'b.example', service: 'D/s', kind: 'proxy', backends: [{ id: 'x', url: 'nope' }] },
      ],
    };
    await until('the bad table asked for', () => seen.length > 3);
    assert.equal((await get(router.port, 'a.example')).status, 200);
    assert.equal((await get(router.port, 'b.example')).status, 404);
    table = route(12, 'c.example');
    await until('the next table', async () => (await get(router.port, 'c.example')).status === 200, 5_000);
    // The control plane goes away: the router keeps its table, and keeps it across its restart.
    const gone = new Promise((r) => cp.server.close(r));
    cp.server.closeAllConnections();
    await gone;
    assert.equal((await get(router.port, 'c.example')).status, 200);
    await router.close(0);
    router = await startRouter(opts(cp.url));
    assert.equal((await get(router.port, 'c.example')).status, 200, 'served from the state file');
    // The control plane is back (on another address, as any replica may answer): followed again.
    table = route(13, 'd.example');
    cp = await serve((req, res) => {
      const after = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('after'));
      const t = table as RouteTable;
      if (t.version > after) return res.setHeader('content-type', 'application/json').end(JSON.stringify(t));
      setTimeout(() => res.writeHead(204).end(), 100);
    });
    await router.close(0);
    router = await startRouter(opts(cp.url));
    closers.push(() => router.close(0));
    closers.push(() => {
      const done = new Promise((r) => cp.server.close(r));
      cp.server.closeAllConnections();
      return done;
    });
    await until(
      'the table after the outage',
      async () => (await get(router.port, 'd.example')).status === 200,
      5_000,
    );
  });

  it('reads no more of an answer than a table may be, and does not spin on instant "nothing newer" answers', async () => {
    const backend = await serve((_req, res) => res.end('kept'));
    closers.push(() => {
      const done = new Promise((r) => backend.server.close(r));
      backend.server.closeAllConnections();
      return done;
    });
    let mode: 'table' | 'huge' | 'instant' = 'table';
    let asked = 0;
    let hugeBytesSent = 0;
    const cp = await serve((_req, res) => {
      asked++;
      if (mode === 'table') {
        mode = 'huge';
        return res.setHeader('content-type', 'application/json').end(
          JSON.stringify({
            version: 5,
            routes: [
              {
                hostname: 'k.example',
                service: 'D/k',
                kind: 'proxy',
                backends: [{ id: 'k1', url: backend.url }],
              },
            ],
          }),
        );
      }
      if (mode === 'instant') return res.writeHead(204).end();
      // Chunked (no length to check first), without end: only the reader's bound stops it.
      res.writeHead(200, { 'content-type': 'application/json' });
      const piece = Buffer.alloc(1024 * 1024, 0x20);
      const pump = () => {
        while (hugeBytesSent < 64 * 1024 * 1024 && !res.destroyed) {
          hugeBytesSent += piece.length;
          if (!res.write(piece)) return void res.once('drain', pump);
        }
      };
      pump();
    });
    closers.push(() => {
      const done = new Promise((r) => cp.server.close(r));
      cp.server.closeAllConnections();
      return done;
    });
    const router = await startRouter({
      port: 0,
      adminPort: 0,
      adminToken: 'a'.repeat(24),
      statePath: join(dir, 'bounded.json'),
      workers: 0,
      controlPlane: { url: cp.url, token: 'ghk_router-token' },
      log: silentLog,
    });
    closers.push(() => router.close(0));
    await until(
      'the first table served',
      async () => (await get(router.port, 'k.example')).status === 200,
      5_000,
    );
    // The oversized answer is dropped a little past 8 MiB, not read to its 64 MiB; the table stays.
    await until('the huge answer to be abandoned', () => asked >= 3 || null, 10_000);
    assert.ok(hugeBytesSent < 64 * 1024 * 1024, `the sender got to write ${hugeBytesSent} bytes`);
    assert.equal((await get(router.port, 'k.example')).body, 'kept');
    // A stand-in that answers 204 at once: about one question a second, not a tight loop.
    mode = 'instant';
    const from = asked;
    await new Promise((r) => setTimeout(r, 2_500));
    assert.ok(asked - from <= 4, `${asked - from} questions in 2.5 s`);
  });

  it('takes static routes only under its static root, and the rest of the table with them', async () => {
    const apps = join(dir, 'apps');
    mkdirSync(join(apps, 'svc', 'v1'), { recursive: true });
    writeFileSync(join(apps, 'svc', 'v1', 'index.html'), 'the release');
    mkdirSync(join(dir, 'outside'), { recursive: true });
    writeFileSync(join(dir, 'outside', 'index.html'), 'not to be served');
    const backend = await serve((_req, res) => res.end('proxied'));
    closers.push(() => {
      const done = new Promise((r) => backend.server.close(r));
      backend.server.closeAllConnections();
      return done;
    });
    const table = {
      version: 3,
      routes: [
        {
          hostname: 's.example',
          service: 'D/s',
          kind: 'static',
          backends: [],
          staticRoot: join(apps, 'svc', 'v1'),
        },
        {
          hostname: 'x.example',
          service: 'D/x',
          kind: 'static',
          backends: [],
          staticRoot: join(dir, 'outside'),
        },
        // Lexically under the root, really outside it.
        {
          hostname: 'y.example',
          service: 'D/y',
          kind: 'static',
          backends: [],
          staticRoot: `${apps}/../outside`,
        },
        // A sibling whose name only starts like the root.
        {
          hostname: 'z.example',
          service: 'D/z',
          kind: 'static',
          backends: [],
          staticRoot: `${apps}-old/svc`,
        },
        { hostname: 'p.example', service: 'D/p', kind: 'proxy', backends: [{ id: 'p1', url: backend.url }] },
      ],
    };
    const cp = await serve((req, res) => {
      const after = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('after'));
      if (table.version > after)
        return res.setHeader('content-type', 'application/json').end(JSON.stringify(table));
      setTimeout(() => res.writeHead(204).end(), 100);
    });
    closers.push(() => {
      const done = new Promise((r) => cp.server.close(r));
      cp.server.closeAllConnections();
      return done;
    });
    const start = async (name: string, staticRoot: string | null) => {
      const warnings: { obj: object; msg: string }[] = [];
      const router = await startRouter({
        port: 0,
        adminPort: 0,
        adminToken: 'a'.repeat(24),
        statePath: join(dir, `${name}.json`),
        workers: 0,
        controlPlane: { url: cp.url, token: 'ghk_router-token', staticRoot },
        log: { ...silentLog, warn: (obj, msg) => warnings.push({ obj, msg }) },
      });
      closers.push(() => router.close(0));
      await until(
        'the table applied',
        async () => (await get(router.port, 'p.example')).status === 200,
        5_000,
      );
      return { router, warnings };
    };
    const rooted = await start('rooted', `${apps}/`);
    assert.equal((await get(rooted.router.port, 's.example')).body, 'the release');
    for (const host of ['x.example', 'y.example', 'z.example'])
      assert.equal((await get(rooted.router.port, host)).status, 404, host);
    const said = rooted.warnings.find((w) => /outside GOVHOST_ROUTER_STATIC_ROOT/.test(w.msg));
    assert.ok(said, 'the refusal is logged');
    assert.deepEqual((said.obj as { hostnames: string[] }).hostnames, [
      'x.example',
      'y.example',
      'z.example',
    ]);
    // Without a static root, no static route from the control plane is served; proxies are.
    const bare = await start('bare', null);
    for (const host of ['s.example', 'x.example'])
      assert.equal((await get(bare.router.port, host)).status, 404, host);
    assert.equal((await get(bare.router.port, 'p.example')).body, 'proxied');
  });
});
