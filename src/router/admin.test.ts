import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RunningRouter } from './router.ts';
import {
  admin,
  ask,
  proxyRoute,
  putRoutes,
  startBackend,
  startTestRouter,
  type TestBackend,
  TOKEN,
  waitFor,
} from './testing.ts';

describe('router: admin API', () => {
  let router: RunningRouter;
  let slow: TestBackend;
  const release: (() => void)[] = [];

  before(async () => {
    slow = await startBackend('slow', (_req, res) => release.push(() => res.end('done')));
    router = await startTestRouter();
  });
  after(async () => {
    for (const r of release) r();
    await router.close(1000);
    await slow.close();
  });

  test('refuses a missing or wrong token with 401', async () => {
    for (const path of ['/routes', '/metrics', '/inflight', '/healthz']) {
      const none = await admin(router, 'GET', path, undefined, null);
      assert.equal(none.status, 401);
      assert.equal(none.body.code, 'GOVHOST_UNAUTHENTICATED');
      const wrong = await admin(router, 'GET', path, undefined, `${TOKEN}x`);
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.code, 'GOVHOST_TOKEN_INVALID');
    }
    const put = await admin(router, 'PUT', '/routes', { version: 999, routes: [] }, 'nope');
    assert.equal(put.status, 401);
    assert.notEqual((await admin(router, 'GET', '/routes')).body.version, 999);
  });

  test('applies a newer table, refuses an older one with 409', async () => {
    const table = { version: 100, routes: [proxyRoute('a.test.localhost', [])] };
    assert.equal((await admin(router, 'PUT', '/routes', table)).status, 200);
    // The same table again is fine (the control plane may resend it after a restart).
    const again = await admin(router, 'PUT', '/routes', table);
    assert.equal(again.status, 200);
    assert.equal(again.body.changed, false);
    const older = await admin(router, 'PUT', '/routes', { version: 99, routes: [] });
    assert.equal(older.status, 409);
    assert.equal(older.body.code, 'GOVHOST_ROUTE_TABLE_STALE');
    assert.equal(older.body.currentVersion, 100);
    const differs = await admin(router, 'PUT', '/routes', { version: 100, routes: [] });
    assert.equal(differs.status, 409);
    assert.deepEqual((await admin(router, 'GET', '/routes')).body, table);
  });

  test('rejects bad tables with 400, naming each problem', async () => {
    const bad = await admin(router, 'PUT', '/routes', {
      version: 200,
      routes: [
        { hostname: 'UPPER.localhost', service: 'X/y', kind: 'proxy', backends: [] },
        { hostname: 'ok.localhost', service: '', kind: 'ftp', backends: [{ id: 'b', url: 'ftp://x' }] },
        { hostname: 'site.localhost', service: 'X/s', kind: 'static', backends: [] },
      ],
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'GOVHOST_VALIDATION');
    const joined = bad.body.errors.join('\n');
    for (const fragment of [
      'routes[0].hostname',
      'routes[1].service',
      'routes[1].kind',
      'routes[1].backends[0].url',
      'routes[2].staticRoot',
    ]) {
      assert.match(joined, new RegExp(fragment.replace(/[[\].]/g, '\\$&')));
    }
    const dup = await admin(router, 'PUT', '/routes', {
      version: 201,
      routes: [proxyRoute('d.localhost', []), proxyRoute('d.localhost', [])],
    });
    assert.equal(dup.status, 400);
    assert.equal((await admin(router, 'PUT', '/routes', 'not a table')).status, 400);
    const notJson = await fetch(`http://127.0.0.1:${router.adminPort}/routes`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: '{"version": 1,',
    });
    assert.equal(notJson.status, 400);
    assert.equal((await admin(router, 'GET', '/routes')).body.version, 100);
  });

  test('unknown endpoints 404, wrong methods 405', async () => {
    assert.equal((await admin(router, 'GET', '/nope')).status, 404);
    assert.equal((await admin(router, 'DELETE', '/routes')).status, 405);
    const health = await admin(router, 'GET', '/healthz');
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'ok');
  });

  test('/inflight shows a slow request while it is in flight, and zero after', async () => {
    await putRoutes(router, [proxyRoute('slow.test.localhost', [{ id: 'slow-7', url: slow.url }])], 300);
    const pending = ask(router.port, { host: 'slow.test.localhost' });
    const during = await waitFor(
      async () => {
        const b = (await admin(router, 'GET', '/inflight')).body.backends['slow-7'];
        return b?.requests === 1 ? b : null;
      },
      5000,
      'one request in flight',
    );
    assert.deepEqual(during, { requests: 1, websockets: 0 });
    // Drain: the instance leaves the table but keeps being reported until its request ends.
    await putRoutes(router, [], 301);
    assert.equal((await admin(router, 'GET', '/inflight')).body.backends['slow-7'].requests, 1);
    release.shift()?.();
    assert.equal((await pending).body, 'done');
    await waitFor(
      async () => (await admin(router, 'GET', '/inflight')).body.backends['slow-7'] === undefined,
      5000,
      'the drained backend to disappear',
    );
  });
});
