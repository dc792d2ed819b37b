import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import type { RunningRouter } from './router.ts';
import {
  admin,
  proxyRoute,
  putRoutes,
  startBackend,
  startTestRouter,
  type TestBackend,
  waitFor,
} from './testing.ts';

describe('router: websockets', () => {
  let router: RunningRouter;
  let backend: TestBackend;
  let wss: WebSocketServer;
  const seenHeaders: Record<string, string | string[] | undefined>[] = [];

  before(async () => {
    backend = await startBackend('ws', (_req, res) => res.end('plain http'));
    wss = new WebSocketServer({ server: backend.server });
    wss.on('connection', (socket, req) => {
      seenHeaders.push(req.headers);
      socket.on('message', (data, isBinary) =>
        socket.send(isBinary ? data : `echo: ${data}`, { binary: isBinary }),
      );
    });
    router = await startTestRouter();
    await putRoutes(router, [
      proxyRoute('chat.test.localhost', [{ id: 'ws-1', url: backend.url }], 'TEST/chat'),
      proxyRoute('nowhere.test.localhost', []),
    ]);
  });
  after(async () => {
    await router.close(1000);
    wss.close();
    await backend.close();
  });

  const open = (host: string) => new WebSocket(`ws://127.0.0.1:${router.port}/socket`, { headers: { host } });

  test('messages go both ways through the router', async () => {
    const ws = open('chat.test.localhost');
    await once(ws, 'open');
    ws.send('hello');
    const [text] = await once(ws, 'message');
    assert.equal(String(text), 'echo: hello');
    const big = Buffer.alloc(200_000, 7);
    ws.send(big);
    const [echoed] = (await once(ws, 'message')) as [Buffer];
    assert.equal(echoed.length, big.length);
    assert.equal(seenHeaders.at(-1)?.['x-forwarded-for'], '127.0.0.1');
    const during = (await admin(router, 'GET', '/inflight')).body.backends['ws-1'];
    assert.deepEqual(during, { requests: 0, websockets: 1 });
    ws.close();
    await once(ws, 'close');
    await waitFor(
      async () => (await admin(router, 'GET', '/inflight')).body.backends['ws-1']?.websockets === 0,
      5000,
      'the websocket count to drop',
    );
    const m = (await admin(router, 'GET', '/metrics')).body.services['TEST/chat'];
    assert.equal(m.requests['1xx'], 1);
  });

  test('an upgrade for a host with no backend is refused with 503', async () => {
    const ws = open('nowhere.test.localhost');
    const [, res] = (await once(ws, 'unexpected-response')) as [unknown, { statusCode: number }];
    assert.equal(res.statusCode, 503);
    ws.on('error', () => {});
    ws.terminate();
  });

  test('an upgrade for an unknown host is refused with 404', async () => {
    const ws = open('unknown.test.localhost');
    const [, res] = (await once(ws, 'unexpected-response')) as [unknown, { statusCode: number }];
    assert.equal(res.statusCode, 404);
    ws.on('error', () => {});
    ws.terminate();
  });
});
