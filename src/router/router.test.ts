import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { BUCKETS_MS } from './metrics.ts';
import { PLATFORM_KEY_HEADER, platformKeyFor } from './probe-key.ts';
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
} from './testing.ts';

describe('router: routing by host', () => {
  let router: RunningRouter;
  let a: TestBackend;
  let b: TestBackend;
  let c: TestBackend;

  before(async () => {
    [a, b, c] = await Promise.all([startBackend('a1'), startBackend('b1'), startBackend('c1')]);
    router = await startTestRouter();
    const put = await putRoutes(router, [
      proxyRoute('alpha.test.localhost', [{ id: 'a1', url: a.url }], 'TEST/alpha'),
      proxyRoute('beta.test.localhost', [{ id: 'b1', url: b.url }], 'TEST/beta'),
      proxyRoute('pair.test.localhost', [
        { id: 'a1', url: a.url },
        { id: 'c1', url: c.url },
      ]),
      proxyRoute('empty.test.localhost', []),
      // The platform's own server (the payment host): its requests carry the router's platform key.
      { ...proxyRoute('pay.test.localhost', [{ id: 'b1', url: b.url }], 'GovHost/pay'), platform: true },
    ]);
    assert.equal(put.status, 200);
  });
  after(async () => {
    await router.close(1000);
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  test('each Host header reaches its own backend; port and case are ignored', async () => {
    const ra = await ask(router.port, { host: 'alpha.test.localhost', path: '/x?y=1' });
    const rb = await ask(router.port, { host: 'BETA.Test.Localhost:8080' });
    assert.equal(ra.status, 200);
    assert.equal(JSON.parse(ra.body).id, 'a1');
    assert.equal(JSON.parse(ra.body).url, '/x?y=1');
    assert.equal(JSON.parse(rb.body).id, 'b1');
  });

  test('one keep-alive client connection carries requests for several hosts', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const hosts = [
        'alpha.test.localhost',
        'beta.test.localhost',
        'alpha.test.localhost',
        'beta.test.localhost',
      ];
      const replies = [];
      for (const host of hosts) replies.push(await ask(router.port, { host, agent }));
      assert.deepEqual(
        replies.map((r) => JSON.parse(r.body).id),
        ['a1', 'b1', 'a1', 'b1'],
      );
      // Same local port every time: the one socket was reused for all four.
      assert.equal(new Set(replies.map((r) => r.localPort)).size, 1);
    } finally {
      agent.destroy();
    }
  });

  test('round-robin across the backends of a route', async () => {
    const ids = [];
    for (let i = 0; i < 6; i++)
      ids.push(JSON.parse((await ask(router.port, { host: 'pair.test.localhost' })).body).id);
    assert.equal(ids.filter((id) => id === 'a1').length, 3);
    assert.equal(ids.filter((id) => id === 'c1').length, 3);
    for (let i = 1; i < ids.length; i++) assert.notEqual(ids[i], ids[i - 1], `alternates: ${ids}`);
  });

  test('backend sees X-Forwarded-* and no hop-by-hop headers', async () => {
    const r = await ask(router.port, {
      host: 'alpha.test.localhost:9999',
      headers: {
        'X-Forwarded-For': '203.0.113.9',
        'X-Forwarded-Proto': 'https',
        Connection: 'keep-alive, X-Secret-Hop',
        'X-Secret-Hop': 'drop me',
        'Keep-Alive': 'timeout=5',
        'X-Custom': 'kept',
      },
    });
    const h = JSON.parse(r.body).headers;
    // Not from a trusted load balancer: the client's claims are replaced, not extended.
    assert.equal(h['x-forwarded-for'], '127.0.0.1');
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.equal(h['x-forwarded-host'], 'alpha.test.localhost:9999');
    assert.equal(h['x-forwarded-port'], String(router.port));
    assert.equal(h['x-custom'], 'kept');
    assert.equal(h['x-secret-hop'], undefined);
    assert.equal(h['keep-alive'], undefined);
    assert.equal(h.host, 'alpha.test.localhost:9999');
  });

  test("only the platform's own route gets the router's platform key; a client's is dropped", async () => {
    const forged = { 'X-GovHost-Router-Key': 'forged' };
    const pay = JSON.parse((await ask(router.port, { host: 'pay.test.localhost', headers: forged })).body);
    assert.equal(pay.headers[PLATFORM_KEY_HEADER], platformKeyFor(TOKEN));
    assert.equal(pay.headers['x-forwarded-proto'], 'http');
    const other = JSON.parse((await ask(router.port, { host: 'beta.test.localhost', headers: forged })).body);
    assert.equal(other.id, 'b1');
    assert.equal(other.headers[PLATFORM_KEY_HEADER], undefined, 'never sent to a hosted service');
  });

  test('an unknown host gets a 404 page naming it', async () => {
    const r = await ask(router.port, { host: 'nobody.test.localhost' });
    assert.equal(r.status, 404);
    assert.match(String(r.headers['content-type']), /text\/html/);
    assert.match(r.body, /No service is published at nobody\.test\.localhost/);
  });

  test('the page escapes the host it names', async () => {
    const r = await ask(router.port, { host: 'x<b>y' });
    assert.equal(r.status, 404);
    assert.doesNotMatch(r.body, /<b>/);
  });

  test('a route with no backends answers 503', async () => {
    const r = await ask(router.port, { host: 'empty.test.localhost' });
    assert.equal(r.status, 503);
    assert.match(r.body, /not running at the moment/);
  });

  test('POST bodies reach the backend, by length and chunked', async () => {
    const byLength = await ask(router.port, {
      host: 'alpha.test.localhost',
      method: 'POST',
      body: 'hello=1',
    });
    assert.equal(JSON.parse(byLength.body).body, 'hello=1');
    const chunked = await ask(router.port, {
      host: 'alpha.test.localhost',
      method: 'PUT',
      headers: { 'Transfer-Encoding': 'chunked' },
      body: Buffer.from('x'.repeat(70_000)),
    });
    assert.equal(JSON.parse(chunked.body).body.length, 70_000);
    // An empty POST keeps its Content-Length: 0 (some servers answer 411 without it).
    const empty = await ask(router.port, { host: 'alpha.test.localhost', method: 'POST', body: '' });
    assert.equal(JSON.parse(empty.body).headers['content-length'], '0');
  });

  test('metrics count requests per service by status class', async () => {
    const before = (await admin(router, 'GET', '/metrics')).body.services['TEST/beta'];
    await ask(router.port, { host: 'beta.test.localhost' });
    await ask(router.port, { host: 'beta.test.localhost' });
    await ask(router.port, { host: 'nobody-else.test.localhost' });
    await ask(router.port, { host: 'empty.test.localhost' });
    const m = (await admin(router, 'GET', '/metrics')).body.services;
    assert.equal(m['TEST/beta'].requests['2xx'], before.requests['2xx'] + 2);
    assert.ok(m['TEST/beta'].latencyMs.p99 >= m['TEST/beta'].latencyMs.p50);
    assert.ok(m['TEST/beta'].bytesOut > 0);
    assert.ok(m['(unknown host)'].requests['4xx'] >= 1);
    assert.ok(m['TEST/empty'].requests['5xx'] >= 1);
  });

  test('metrics?raw=1 gives the counters as recorded: classes and histogram buckets add up', async () => {
    const before = (await admin(router, 'GET', '/metrics?raw=1')).body;
    await ask(router.port, { host: 'beta.test.localhost' });
    const after = (await admin(router, 'GET', '/metrics?raw=1')).body;
    assert.equal(after.buckets.length, BUCKETS_MS.length);
    assert.equal(after.buckets.at(-1), 'Infinity');
    const b = after.services['TEST/beta'];
    const sum = (xs: number[]) => xs.reduce((a, x) => a + x, 0);
    assert.equal(b.classes[1], before.services['TEST/beta'].classes[1] + 1);
    assert.equal(sum(b.buckets), sum(b.classes));
    assert.ok(b.sumMs > before.services['TEST/beta'].sumMs);
    // The summary form stays the default.
    assert.ok((await admin(router, 'GET', '/metrics')).body.services['TEST/beta'].requests);
  });
});
