import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RunningRouter } from './router.ts';
import {
  count,
  openRaw as open,
  proxyRoute,
  putRoutes,
  startBackend,
  startTestRouter,
  type TestBackend,
  waitFor,
} from './testing.ts';

describe('router: HTTP/1.x on the wire', () => {
  let router: RunningRouter;
  let backend: TestBackend;
  let seen: string[];

  before(async () => {
    seen = [];
    backend = await startBackend('wire', (req, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (req.url === '/chunked') {
        res.write('part one, ');
        res.end('part two');
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = `${req.method} ${req.url} ${Buffer.concat(chunks).toString()}`;
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
      });
    });
    router = await startTestRouter({ clientIdleTimeoutMs: 400 });
    await putRoutes(router, [proxyRoute('wire.test.localhost', [{ id: 'w1', url: backend.url }])]);
  });
  after(async () => {
    await router.close(1000);
    await backend.close();
  });

  test('pipelined requests are answered in order on one connection', async () => {
    const c = await open(router.port);
    c.socket.write(
      'GET /one HTTP/1.1\r\nHost: wire.test.localhost\r\n\r\n' +
        'POST /two HTTP/1.1\r\nHost: wire.test.localhost\r\nContent-Length: 3\r\n\r\nabc' +
        'GET /three HTTP/1.1\r\nHost: nobody.test.localhost\r\n\r\n' +
        'GET /four HTTP/1.1\r\nHost: wire.test.localhost\r\nConnection: close\r\n\r\n',
    );
    await c.closed;
    const t = c.text();
    assert.equal(count(t, 'HTTP/1.1 '), 4);
    assert.ok(t.indexOf('GET /one') < t.indexOf('POST /two abc'));
    assert.ok(t.indexOf('POST /two abc') < t.indexOf('HTTP/1.1 404'));
    assert.ok(t.indexOf('HTTP/1.1 404') < t.indexOf('GET /four'));
  });

  test('HTTP/1.0: closes by default, keeps alive when asked, never gets chunked framing', async () => {
    const plain = await open(router.port);
    plain.socket.write('GET /x HTTP/1.0\r\nHost: wire.test.localhost\r\n\r\n');
    await plain.closed;
    assert.match(plain.text(), /^HTTP\/1\.1 200 /);
    assert.match(plain.text(), /Connection: close/);

    const kept = await open(router.port);
    kept.socket.write('GET /y HTTP/1.0\r\nHost: wire.test.localhost\r\nConnection: keep-alive\r\n\r\n');
    await waitFor(() => kept.text().endsWith('GET /y '), 5000, 'the answer');
    assert.match(kept.text(), /Connection: keep-alive/);
    assert.equal(kept.socket.destroyed, false);
    // A chunked backend answer goes to a 1.0 client as plain bytes, ended by closing.
    kept.socket.write('GET /chunked HTTP/1.0\r\nHost: wire.test.localhost\r\nConnection: keep-alive\r\n\r\n');
    await kept.closed;
    assert.match(kept.text(), /part one, part two$/);
    assert.doesNotMatch(kept.text().slice(kept.text().lastIndexOf('HTTP/1.1')), /Transfer-Encoding/i);
  });

  test('a client that shuts its side after the request still gets the answer', async () => {
    const c = await open(router.port);
    c.socket.end('GET /half HTTP/1.1\r\nHost: wire.test.localhost\r\n\r\n');
    await c.closed;
    assert.match(c.text(), /^HTTP\/1\.1 200 [\s\S]*GET \/half $/);
  });

  test('a chunked backend answer is re-chunked for an HTTP/1.1 client', async () => {
    const c = await open(router.port);
    c.socket.write('GET /chunked HTTP/1.1\r\nHost: wire.test.localhost\r\nConnection: close\r\n\r\n');
    await c.closed;
    assert.match(c.text(), /Transfer-Encoding: chunked/);
    assert.match(c.text(), /part one, [\s\S]*part two[\s\S]*\r\n0\r\n\r\n$/);
  });

  test('Expect: 100-continue gets 100 Continue, then the answer', async () => {
    const c = await open(router.port);
    c.socket.write(
      'PUT /e HTTP/1.1\r\nHost: wire.test.localhost\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n',
    );
    await waitFor(() => c.text().includes('100 Continue'), 5000, '100 Continue');
    c.socket.write('data');
    await waitFor(() => c.text().includes('PUT /e data'), 5000, 'the answer');
    c.socket.destroy();
  });

  test('a smuggling attempt (Content-Length with Transfer-Encoding) is refused and never forwarded', async () => {
    const before = seen.length;
    const c = await open(router.port);
    c.socket.write(
      'POST /s HTTP/1.1\r\nHost: wire.test.localhost\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n' +
        '0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: wire.test.localhost\r\n\r\n',
    );
    await c.closed;
    assert.match(c.text(), /^HTTP\/1\.1 400 /);
    assert.equal(count(c.text(), 'HTTP/1.1 '), 1);
    assert.equal(seen.length, before);
  });

  test('a head over 16 KiB gets 431; garbage gets 400; both close', async () => {
    const big = await open(router.port);
    big.socket.write(`GET / HTTP/1.1\r\nHost: wire.test.localhost\r\nX-Big: ${'a'.repeat(20_000)}`);
    await big.closed;
    assert.match(big.text(), /^HTTP\/1\.1 431 /);
    const junk = await open(router.port);
    junk.socket.write('\x16\x03\x01 hello tls\r\n\r\n');
    await junk.closed;
    assert.match(junk.text(), /^HTTP\/1\.1 400 /);
  });

  test('an idle or half-sent connection is closed after the idle timeout', async () => {
    const idle = await open(router.port);
    const half = await open(router.port);
    half.socket.write('GET / HTTP/1.1\r\nHost: wire');
    await Promise.all([idle.closed, half.closed]);
    assert.equal(idle.text(), '');
  });
});
