import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { RunningRouter } from './router.ts';
import {
  admin,
  ask,
  deadPort,
  proxyRoute,
  putRoutes,
  startBackend,
  startTestRouter,
  type TestBackend,
  waitFor,
} from './testing.ts';

describe('router: failures, retries, limits', () => {
  let router: RunningRouter;
  let live: TestBackend;
  let slow: TestBackend;
  let broken: TestBackend;
  const heldResponses: (() => void)[] = [];
  const heldSockets: Socket[] = [];
  let dead: string;

  before(async () => {
    live = await startBackend('live');
    // Never answers on its own; the test releases it at the end.
    slow = await startBackend('slow', (req, res) => {
      heldSockets.push(req.socket);
      heldResponses.push(() => res.end('late'));
    });
    // Sends headers and half a body, then drops the connection.
    broken = await startBackend('broken', (_req, res) => {
      res.writeHead(200, { 'Content-Length': '1000' });
      res.write('x'.repeat(100), () => res.socket?.destroy());
    });
    dead = `http://127.0.0.1:${await deadPort()}`;
    router = await startTestRouter({ bodyLimit: 1024, upstreamTimeoutMs: 300 });
    const put = await putRoutes(router, [
      proxyRoute('retry.test.localhost', [
        { id: 'dead-1', url: dead },
        { id: 'live-1', url: live.url },
      ]),
      proxyRoute('post.test.localhost', [
        { id: 'dead-2', url: dead },
        { id: 'live-2', url: live.url },
      ]),
      proxyRoute('live.test.localhost', [{ id: 'live-3', url: live.url }]),
      proxyRoute('slow.test.localhost', [{ id: 'slow-1', url: slow.url }]),
      proxyRoute('broken.test.localhost', [{ id: 'broken-1', url: broken.url }]),
    ]);
    assert.equal(put.status, 200);
  });
  after(async () => {
    for (const release of heldResponses) release();
    await router.close(1000);
    await Promise.all([live.close(), slow.close(), broken.close()]);
  });

  test('a GET that meets a refused connection is retried on another backend', async () => {
    const hitsBefore = live.hits;
    const replies = await Promise.all(
      Array.from({ length: 6 }, () => ask(router.port, { host: 'retry.test.localhost' })),
    );
    assert.deepEqual(
      replies.map((r) => r.status),
      [200, 200, 200, 200, 200, 200],
    );
    assert.equal(live.hits - hitsBefore, 6);
  });

  test('a POST that meets a refused connection is not retried: 502', async () => {
    // The pool starts at its first backend, the dead one.
    const hitsBefore = live.hits;
    const r = await ask(router.port, { host: 'post.test.localhost', method: 'POST', body: 'a=1' });
    assert.equal(r.status, 502);
    assert.equal(live.hits, hitsBefore);
    // The dead backend is now skipped for a while (passive health): the next POST succeeds.
    const next = await ask(router.port, { host: 'post.test.localhost', method: 'POST', body: 'a=2' });
    assert.equal(next.status, 200);
    assert.equal(JSON.parse(next.body).body, 'a=2');
  });

  test('connections to a backend are kept alive and reused', async () => {
    const ports = new Set<number>();
    const probe = await startBackend('probe', (req, res) => {
      ports.add(req.socket.remotePort ?? 0);
      res.end('ok');
    });
    try {
      await putRoutes(router, [proxyRoute('probe.test.localhost', [{ id: 'probe-1', url: probe.url }])]);
      for (let i = 0; i < 5; i++)
        assert.equal((await ask(router.port, { host: 'probe.test.localhost' })).status, 200);
      assert.equal(ports.size, 1);
    } finally {
      await probe.close();
    }
  });

  test('a slow backend gets 504 after the upstream timeout', async () => {
    await putRoutes(router, [proxyRoute('slow.test.localhost', [{ id: 'slow-1', url: slow.url }])]);
    const r = await ask(router.port, { host: 'slow.test.localhost' });
    assert.equal(r.status, 504);
    assert.match(r.body, /took too long/);
  });

  test('a body over the limit gets 413 and is not forwarded', async () => {
    await putRoutes(router, [proxyRoute('live.test.localhost', [{ id: 'live-3', url: live.url }])]);
    const hitsBefore = live.hits;
    const declared = await ask(router.port, {
      host: 'live.test.localhost',
      method: 'POST',
      body: 'x'.repeat(2000),
    });
    assert.equal(declared.status, 413);
    assert.equal(declared.headers.connection, 'close');
    const atLimit = await ask(router.port, {
      host: 'live.test.localhost',
      method: 'POST',
      body: 'y'.repeat(1024),
    });
    assert.equal(atLimit.status, 200);
    assert.equal(live.hits, hitsBefore + 1);
    const chunked = await ask(router.port, {
      host: 'live.test.localhost',
      method: 'POST',
      headers: { 'Transfer-Encoding': 'chunked' },
      body: 'z'.repeat(5000),
    });
    assert.equal(chunked.status, 413);
  });

  test('a backend dropping the connection mid-body cuts the client off; the router carries on', async () => {
    await putRoutes(router, [
      proxyRoute('broken.test.localhost', [{ id: 'broken-1', url: broken.url }]),
      proxyRoute('live.test.localhost', [{ id: 'live-3', url: live.url }]),
    ]);
    await assert.rejects(
      ask(router.port, { host: 'broken.test.localhost' }),
      /aborted|ECONNRESET|socket hang up/,
    );
    assert.equal((await ask(router.port, { host: 'live.test.localhost' })).status, 200);
    const m = (await admin(router, 'GET', '/metrics')).body.services['TEST/broken'];
    assert.equal(m.aborted, 1);
  });

  test('a client leaving early frees the backend and the router carries on', async () => {
    await putRoutes(router, [
      proxyRoute('slow.test.localhost', [{ id: 'slow-1', url: slow.url }]),
      proxyRoute('live.test.localhost', [{ id: 'live-3', url: live.url }]),
    ]);
    const held = heldResponses.length;
    const req = request({ host: '127.0.0.1', port: router.port, headers: { host: 'slow.test.localhost' } });
    req.on('error', () => {});
    req.end();
    await waitFor(() => heldResponses.length > held, 5000, 'the slow backend to get the request');
    const backendSocket = heldSockets[heldSockets.length - 1]!;
    const backendClosed = backendSocket.destroyed ? Promise.resolve() : once(backendSocket, 'close');
    req.destroy();
    // The router drops its half-used connection to the backend, so the backend can stop working.
    await backendClosed;
    await waitFor(
      async () => (await admin(router, 'GET', '/inflight')).body.backends['slow-1']?.requests === 0,
      5000,
      'in-flight count back to 0',
    );
    assert.equal((await ask(router.port, { host: 'live.test.localhost' })).status, 200);
  });

  test('a large answer to a slow reader arrives whole, and the connection serves the next request', async () => {
    const big = Buffer.alloc(4 * 1024 * 1024, 'a');
    const large = await startBackend('large', (req, res) => {
      if (req.url === '/big') {
        res.writeHead(200, { 'Content-Length': big.length });
        res.end(big);
      } else if (req.url === '/40k') {
        res.writeHead(200, { 'Content-Length': 40_000 });
        res.end(big.subarray(0, 40_000));
      } else {
        res.end('small');
      }
    });
    try {
      await putRoutes(router, [proxyRoute('large.test.localhost', [{ id: 'large-1', url: large.url }])]);
      const got = await new Promise<number>((resolve, reject) => {
        const req = request({
          host: '127.0.0.1',
          port: router.port,
          path: '/big',
          headers: { host: 'large.test.localhost' },
        });
        req.on('response', (res) => {
          let n = 0;
          // Read in fits and starts, so the router has to hold back the backend.
          res.pause();
          const tick = setInterval(() => {
            res.resume();
            setImmediate(() => res.pause());
          }, 5);
          res.on('data', (c: Buffer) => {
            n += c.length;
          });
          res.on('end', () => {
            clearInterval(tick);
            resolve(n);
          });
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
      assert.equal(got, big.length);
      // A 40 KB answer arrives in one read and overfills the client socket's buffer at once:
      // the backend connection is paused as the answer completes, and must be resumed
      // before it serves the next request.
      for (let i = 0; i < 3; i++) {
        assert.equal(
          (await ask(router.port, { host: 'large.test.localhost', path: '/40k' })).body.length,
          40_000,
        );
        assert.equal(
          (await ask(router.port, { host: 'large.test.localhost', path: '/small' })).body,
          'small',
        );
      }
      for (let i = 0; i < 3; i++) {
        assert.equal(
          (await ask(router.port, { host: 'large.test.localhost', path: '/small' })).body,
          'small',
        );
      }
    } finally {
      await large.close();
    }
  });

  test('HEAD, 204 and chunked backend answers pass through intact', async () => {
    const special = await startBackend('special', (req, res) => {
      if (req.url === '/empty') {
        res.writeHead(204);
        res.end();
      } else if (req.url === '/stream') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        for (let i = 0; i < 50; i++) res.write(`line ${i}\n`);
        res.end();
      } else {
        res.writeHead(200, { 'Content-Length': '5', 'X-Kind': 'head' });
        res.end(req.method === 'HEAD' ? undefined : 'hello');
      }
    });
    try {
      await putRoutes(router, [
        proxyRoute('special.test.localhost', [{ id: 'special-1', url: special.url }]),
      ]);
      const head = await ask(router.port, { host: 'special.test.localhost', method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.headers['content-length'], '5');
      assert.equal(head.headers['x-kind'], 'head');
      assert.equal(head.body, '');
      const empty = await ask(router.port, { host: 'special.test.localhost', path: '/empty' });
      assert.equal(empty.status, 204);
      const stream = await ask(router.port, { host: 'special.test.localhost', path: '/stream' });
      assert.equal(stream.body.split('\n').length, 51);
      // And the pooled connection is still good afterwards.
      assert.equal((await ask(router.port, { host: 'special.test.localhost' })).body, 'hello');
    } finally {
      await special.close();
    }
  });
});
