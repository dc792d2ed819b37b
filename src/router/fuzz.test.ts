import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ChunkedDecoder } from './chunked.ts';
import { parseRequestHead, RequestError } from './http1-request.ts';
import type { RunningRouter } from './router.ts';
import {
  ask,
  mutate,
  proxyRoute,
  putRoutes,
  seededRandom,
  startBackend,
  startTestRouter,
  type TestBackend,
} from './testing.ts';

const VALID = [
  'GET /a?b=1 HTTP/1.1\r\nHost: fuzz.test.localhost\r\nAccept: */*\r\n\r\n',
  'POST /p HTTP/1.1\r\nHost: fuzz.test.localhost\r\nContent-Length: 5\r\n\r\nhello',
  'PUT /c HTTP/1.1\r\nHost: fuzz.test.localhost\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
];
const NASTY = [
  '\r',
  '\n',
  '\0',
  ' ',
  ':',
  '\t',
  '\x7f',
  '\xff',
  'Transfer-Encoding: chunked\r\n',
  '0\r\n\r\n',
  '-1',
];

describe('fuzzing the router’s own HTTP code', () => {
  test('the request parser accepts or refuses, and never throws anything else', () => {
    const rnd = seededRandom(42);
    for (let i = 0; i < 5000; i++) {
      const text = mutate(rnd, VALID[i % VALID.length]!, NASTY).split('\r\n\r\n')[0]!;
      try {
        parseRequestHead(text);
      } catch (err) {
        assert.ok(err instanceof RequestError, `unexpected ${String(err)} for ${JSON.stringify(text)}`);
      }
    }
  });

  test('a chunked body decodes the same however it is split', () => {
    const rnd = seededRandom(7);
    for (let round = 0; round < 300; round++) {
      const parts = Array.from({ length: 1 + Math.floor(rnd() * 5) }, (_, i) =>
        `part${i}-`.repeat(1 + Math.floor(rnd() * 40)),
      );
      const wire = Buffer.from(
        `${parts.map((p) => `${p.length.toString(16)}\r\n${p}\r\n`).join('')}0\r\n\r\nNEXT`,
      );
      const d = new ChunkedDecoder();
      let out = '';
      let pos = 0;
      while (pos < wire.length && !d.done) {
        const end = Math.min(wire.length, pos + 1 + Math.floor(rnd() * 20));
        const piece = wire.subarray(pos, end);
        const used = d.decode(piece, 0, (a, b) => {
          out += piece.toString('latin1', a, b);
        });
        pos += used;
      }
      assert.equal(out, parts.join(''));
      assert.equal(wire.toString('latin1', pos), 'NEXT');
    }
  });

  describe('live', () => {
    let router: RunningRouter;
    let backend: TestBackend;
    before(async () => {
      backend = await startBackend('fuzz');
      router = await startTestRouter({ clientIdleTimeoutMs: 250 });
      await putRoutes(router, [proxyRoute('fuzz.test.localhost', [{ id: 'f1', url: backend.url }])]);
    });
    after(async () => {
      await router.close(1000);
      await backend.close();
    });

    test('mutated requests get an answer or a closed connection; the router keeps serving', async () => {
      const rnd = seededRandom(1234);
      // 60 seeded cases keep the suite short; raise the count to fuzz longer by hand.
      for (let i = 0; i < 60; i++) {
        const socket = connect(router.port, '127.0.0.1');
        socket.on('error', () => {});
        socket.on('data', () => {});
        await once(socket, 'connect');
        socket.end(mutate(rnd, VALID[i % VALID.length]!, NASTY), 'latin1');
        // Bounded by the router’s idle timeout (250 ms) for requests left incomplete.
        await once(socket, 'close');
      }
      const r = await ask(router.port, { host: 'fuzz.test.localhost' });
      assert.equal(r.status, 200);
    });
  });
});
