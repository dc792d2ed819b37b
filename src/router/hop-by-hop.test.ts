import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { RunningRouter } from './router.ts';
import {
  ask,
  count,
  openRaw,
  proxyRoute,
  putRoutes,
  startBackend,
  startTestRouter,
  type TestBackend,
  waitFor,
} from './testing.ts';

/**
 * Raw-socket cases where one header could change how another is read or forwarded: each was
 * seen to go wrong (issue 10), and each is checked on what the backend actually received.
 */

const HOST = 'hop.test.localhost';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A request that would be a second, hidden request if the body were read as one. */
const HIDDEN = `GET /hidden HTTP/1.1\r\nHost: other.test.localhost\r\nX-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Host: evil.example\r\n\r\n`;

describe('router: headers that frame or route a request are never hop-by-hop', () => {
  let router: RunningRouter;
  let backend: TestBackend;
  let seen: Seen[];

  before(async () => {
    seen = [];
    backend = await startBackend('hop', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('latin1'),
        });
        const body = `${req.method} ${req.url}`;
        res.writeHead(200, { 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
      });
    });
    router = await startTestRouter({ clientIdleTimeoutMs: 2000 });
    await putRoutes(router, [proxyRoute(HOST, [{ id: 'h1', url: backend.url }])]);
  });
  after(async () => {
    await router.close(1000);
    await backend.close();
  });

  for (const connection of [
    'Content-Length',
    'keep-alive, Content-Length',
    'close, content-length',
    'CONTENT-LENGTH, Upgrade',
  ]) {
    test(`Connection: ${connection} gets 400, its connection closes, and the body never reaches a backend`, async () => {
      const before = seen.length;
      const c = await openRaw(router.port);
      c.socket.write(
        `POST /carrier HTTP/1.1\r\nHost: ${HOST}\r\nConnection: ${connection}\r\nContent-Length: ${HIDDEN.length}\r\n\r\n${HIDDEN}`,
      );
      await c.closed;
      assert.match(c.text(), /^HTTP\/1\.1 400 /);
      assert.equal(count(c.text(), 'HTTP/1.1 '), 1);
      assert.equal(seen.length, before, `the backend got ${JSON.stringify(seen.slice(before))}`);
      // And the next client is answered for its own request, not for a hidden one.
      const next = await ask(router.port, { host: HOST, path: '/next' });
      assert.equal(next.body, 'GET /next');
    });
  }

  test('after a bad chunk size the connection closes: a later request on it is never served', async () => {
    const before = seen.length;
    const c = await openRaw(router.port);
    c.socket.write(
      `POST /chunks HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n`,
    );
    await waitFor(() => c.text().includes('400'), 5000, 'the 400');
    c.socket.write(`GET /later HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
    await c.closed;
    assert.equal(count(c.text(), 'HTTP/1.1 '), 1);
    assert.ok(!seen.slice(before).some((s) => s.url === '/later'), 'the later request was served');
  });

  test('a body the client stops sending halfway gets 400 at once, not after the upstream timeout', async () => {
    const c = await openRaw(router.port);
    c.socket.end(`POST /short HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 10\r\n\r\nabc`);
    await waitFor(() => c.text().includes('HTTP/1.1 400'), 5000, 'the 400');
    await c.closed;
  });

  test('an HTTP/1.0 client never gets 100 Continue', async () => {
    const c = await openRaw(router.port);
    c.socket.write(
      `PUT /old HTTP/1.0\r\nHost: ${HOST}\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\ndata`,
    );
    await c.closed;
    assert.doesNotMatch(c.text(), /100 Continue/);
    assert.match(c.text(), /^HTTP\/1\.1 200 [\s\S]*PUT \/old$/);
  });

  test('header names with an underscore are dropped, as nginx does', async () => {
    const before = seen.length;
    const c = await openRaw(router.port);
    c.socket.write(
      `POST /under HTTP/1.1\r\nHost: ${HOST}\r\nTransfer_Encoding: chunked\r\nX_Custom: a\r\nContent_Length: 99\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok`,
    );
    await c.closed;
    assert.match(c.text(), /^HTTP\/1\.1 200 /);
    const got = seen.slice(before);
    assert.equal(got.length, 1);
    assert.equal(got[0]!.body, 'ok');
    for (const name of ['transfer_encoding', 'x_custom', 'content_length'])
      assert.equal(got[0]!.headers[name], undefined);
  });

  test('a declined upgrade: bytes sent after its head never reach the backend', async () => {
    // The backend sees the raw connection: every byte the router sent after the upgrade head,
    // which a backend that keeps reading HTTP after declining would take as a request.
    let extra = -1;
    const done = new Promise<void>((resolve) => {
      backend.server.once('upgrade', (_req, socket, head: Buffer) => {
        let bytes = head.length;
        socket.on('data', (d: Buffer) => {
          bytes += d.length;
        });
        // The router ends its side after relaying the refusal: all it sent has arrived.
        socket.on('end', () => {
          extra = bytes;
          socket.destroy();
          resolve();
        });
        socket.write('HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\n');
      });
    });
    const c = await openRaw(router.port);
    c.socket.write(
      `GET /ws HTTP/1.1\r\nHost: ${HOST}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n${HIDDEN}`,
    );
    await Promise.all([c.closed, done]);
    assert.match(c.text(), /^HTTP\/1\.1 426 /);
    assert.equal(extra, 0);
  });

  test('from an untrusted peer, X-Forwarded-* are replaced and Forwarded, X-Real-IP dropped', async () => {
    const before = seen.length;
    const r = await ask(router.port, {
      host: HOST,
      path: '/untrusted',
      headers: {
        'X-Forwarded-For': '203.0.113.9',
        'X-Forwarded-Proto': 'https',
        'X-Forwarded-Host': 'evil.example',
        'X-Forwarded-Port': '443',
        'X-Forwarded-Prefix': '/admin',
        Forwarded: 'for=203.0.113.9;proto=https',
        'X-Real-IP': '203.0.113.9',
      },
    });
    assert.equal(r.status, 200);
    const h = seen[before]!.headers;
    assert.equal(h['x-forwarded-for'], '127.0.0.1');
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.equal(h['x-forwarded-host'], HOST);
    assert.equal(h['x-forwarded-port'], String(router.port));
    for (const name of ['x-forwarded-prefix', 'forwarded', 'x-real-ip'])
      assert.equal(h[name], undefined, name);
  });
});

describe('router: forwarding headers from a trusted proxy are extended', () => {
  let router: RunningRouter;
  let other: RunningRouter;
  let backend: TestBackend;

  before(async () => {
    backend = await startBackend('lb');
    [router, other] = await Promise.all([
      startTestRouter({ trustedProxies: ['127.0.0.0/8'] }),
      startTestRouter({ trustedProxies: ['10.0.0.0/8', '::1'] }),
    ]);
    for (const r of [router, other]) await putRoutes(r, [proxyRoute(HOST, [{ id: 'l1', url: backend.url }])]);
  });
  after(async () => {
    await Promise.all([router.close(1000), other.close(1000)]);
    await backend.close();
  });

  const claims = {
    'X-Forwarded-For': '203.0.113.9',
    'X-Forwarded-Proto': 'https',
    'X-Forwarded-Host': 'etax.gov.example',
    'X-Forwarded-Port': '443',
    'X-Forwarded-Prefix': '/tax',
    Forwarded: 'for=203.0.113.9;proto=https',
    'X-Real-IP': '203.0.113.9',
  };

  test('a peer in GOVHOST_ROUTER_TRUSTED_PROXIES: appended to, its scheme and host kept', async () => {
    const r = await ask(router.port, { host: HOST, headers: claims });
    const h = JSON.parse(r.body).headers as IncomingHttpHeaders;
    assert.equal(h['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
    assert.equal(h['x-forwarded-proto'], 'https');
    assert.equal(h['x-forwarded-host'], 'etax.gov.example');
    assert.equal(h['x-forwarded-port'], '443');
    assert.equal(h['x-forwarded-prefix'], '/tax');
    assert.equal(h.forwarded, 'for=203.0.113.9;proto=https, for=127.0.0.1');
    assert.equal(h['x-real-ip'], '203.0.113.9');
  });

  test('a peer outside the trusted networks: replaced', async () => {
    const r = await ask(other.port, { host: HOST, headers: claims });
    const h = JSON.parse(r.body).headers as IncomingHttpHeaders;
    assert.equal(h['x-forwarded-for'], '127.0.0.1');
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.equal(h.forwarded, undefined);
  });
});

describe('router: a backend’s response is untrusted too', () => {
  let router: RunningRouter;
  let server: Server;
  // Each path answers with one response head whose framing could be read two ways.
  const answers: Record<string, string> = {
    '/cl-te':
      'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged',
    '/te-gzip': 'Transfer-Encoding: gzip\r\n\r\nforged',
    '/te-twice': 'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    '/conn-cl':
      'Connection: Content-Length\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged',
    '/ok': 'Connection: X-Secret\r\nX-Secret: hop\r\nContent-Length: 2\r\n\r\nok',
  };

  before(async () => {
    // A raw backend: it writes exactly the bytes above, which no HTTP library would.
    server = createServer((socket) => {
      let buf = '';
      socket.on('error', () => {});
      socket.on('data', (d: Buffer) => {
        buf += d.toString('latin1');
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const path = buf.split(' ')[1] ?? '';
        buf = buf.slice(end + 4);
        socket.write(`HTTP/1.1 200 OK\r\n${answers[path] ?? 'Content-Length: 0\r\n\r\n'}`);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    router = await startTestRouter();
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await putRoutes(router, [proxyRoute(HOST, [{ id: 'raw', url }])]);
  });
  after(async () => {
    await router.close(1000);
    server.close();
  });

  for (const path of ['/cl-te', '/te-gzip', '/te-twice', '/conn-cl']) {
    test(`${path}: 502, and nothing of it reaches the client or the next request`, async () => {
      const bad = await ask(router.port, { host: HOST, path });
      assert.equal(bad.status, 502);
      assert.doesNotMatch(bad.body, /forged/);
      const good = await ask(router.port, { host: HOST, path: '/ok' });
      assert.equal(good.body, 'ok');
    });
  }

  test('headers the backend’s Connection header names are not passed on', async () => {
    const r = await ask(router.port, { host: HOST, path: '/ok' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-secret'], undefined);
  });
});
