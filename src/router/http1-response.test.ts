import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ResponseParseError, ResponseParser, type ResponseSink } from './http1-response.ts';

/** Feeds `parts` to a parser and records what it reports. */
function parse(
  parts: (string | Buffer)[],
  opts: { head?: boolean; upgrade?: boolean; borrowed?: boolean } = {},
) {
  const events: string[] = [];
  let body = '';
  const p = new ResponseParser();
  const sink: ResponseSink = {
    onHead: (h) => events.push(`head ${h.status} ${JSON.stringify(h.headers)}`),
    onBody: (c, last) => {
      body += c.toString('latin1');
      if (last) events.push('last');
    },
    onComplete: () => events.push('complete'),
  };
  p.reset(sink, opts.head ?? false, opts.upgrade ?? false);
  for (const part of parts) {
    const buf = typeof part === 'string' ? Buffer.from(part, 'latin1') : part;
    if (opts.borrowed) {
      // Simulate the shared read buffer: overwrite the bytes after each call.
      const shared = Buffer.from(buf);
      p.execute(shared, true);
      shared.fill(0x21);
    } else {
      p.execute(buf);
    }
  }
  return { p, events, body };
}

const bytes = (s: string) => s.split('');

describe('ResponseParser', () => {
  test('Content-Length body, fed one byte at a time, with a borrowed buffer', () => {
    const text =
      'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello';
    const { p, events, body } = parse(bytes(text), { borrowed: true });
    assert.equal(body, 'hello');
    assert.deepEqual(events, [
      'head 200 ["Content-Type","text/plain","Content-Length","5"]',
      'last',
      'complete',
    ]);
    assert.equal(p.keepAlive, true);
    assert.equal(p.complete, true);
  });

  test('chunked body split anywhere, with extensions and trailers; hop-by-hop headers dropped', () => {
    const text =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nKeep-Alive: timeout=5\r\nX-A: 1\r\n\r\n' +
      '5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n';
    for (const size of [1, 3, 7, text.length]) {
      const parts = [];
      for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
      const { p, events, body } = parse(parts, { borrowed: size === 3 });
      assert.equal(body, 'hello world');
      assert.deepEqual(events, ['head 200 ["X-A","1"]', 'complete']);
      assert.equal(p.idleHintMs, 5000);
    }
  });

  test('interim 100 and 103 heads are skipped', () => {
    const { events } = parse([
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n',
    ]);
    assert.deepEqual(events, ['head 204 []', 'complete']);
  });

  test('HEAD responses and 304 have no body whatever their headers say', () => {
    const head = parse(['HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n'], { head: true });
    assert.deepEqual(head.events, ['head 200 ["Content-Length","99"]', 'complete']);
    const notModified = parse(['HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n']);
    assert.deepEqual(notModified.events, ['head 304 ["ETag","\\"x\\""]', 'complete']);
  });

  test('a body without length reads until close and the connection is not reused', () => {
    const { p, events, body } = parse(['HTTP/1.1 200 OK\r\n\r\npart one, ', 'part two']);
    assert.equal(body, 'part one, part two');
    assert.equal(p.keepAlive, false);
    assert.equal(p.finishOnClose(), true);
    assert.deepEqual(events, ['head 200 []', 'complete']);
  });

  test('Connection: close and HTTP/1.0 mean no reuse', () => {
    assert.equal(
      parse(['HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n']).p.keepAlive,
      false,
    );
    assert.equal(parse(['HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n']).p.keepAlive, false);
    assert.equal(
      parse(['HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n']).p.keepAlive,
      true,
    );
  });

  // Each of these could be framed two ways by the router and the client: the router answers 502.
  const refused: [string, string][] = [
    ['both Transfer-Encoding and Content-Length', 'Content-Length: 3\r\nTransfer-Encoding: chunked'],
    ['a coding other than chunked', 'Transfer-Encoding: gzip, chunked'],
    ['chunked twice', 'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked'],
    ['chunked not last', 'Transfer-Encoding: chunked, gzip'],
    ['Connection naming Content-Length', 'Content-Length: 2\r\nConnection: keep-alive, Content-Length'],
    ['Connection naming Transfer-Encoding', 'Transfer-Encoding: chunked\r\nConnection: TRANSFER-ENCODING'],
  ];
  for (const [why, headers] of refused) {
    test(`refuses a response with ${why}`, () => {
      assert.throws(
        () => parse([`HTTP/1.1 200 OK\r\n${headers}\r\n\r\n2\r\nok\r\n0\r\n\r\n`]),
        (err: unknown) => err instanceof ResponseParseError,
      );
    });
  }

  test('headers the Connection header names go no further; close wins over keep-alive', () => {
    const { p } = parse([
      'HTTP/1.1 200 OK\r\nX-Hop: a\r\nConnection: keep-alive\r\nX-Kept: b\r\nConnection: x-hop, close\r\nContent-Length: 0\r\n\r\n',
    ]);
    assert.deepEqual(p.headers, ['X-Kept', 'b', 'Content-Length', '0']);
    assert.equal(p.keepAlive, false);
  });

  test('bytes after a complete response make the connection unusable', () => {
    const { p } = parse(['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA']);
    assert.equal(p.keepAlive, false);
  });

  test('an upgrade stops at the 101 head and keeps the bytes that follow', () => {
    const { p, events } = parse(
      ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x02hi'],
      {
        upgrade: true,
      },
    );
    assert.deepEqual(events, ['head 101 []']);
    assert.equal(p.upgradeTo, 'websocket');
    assert.deepEqual([...p.rest!], [0x81, 0x02, 0x68, 0x69]);
  });

  const malformed: [string, string][] = [
    ['bad status line', 'HTTP/2 200 OK\r\n\r\n'],
    ['bad header line', 'HTTP/1.1 200 OK\r\nNoColon\r\n\r\n'],
    ['bad header name', 'HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n'],
    ['bad header name', 'HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded: obs-fold\r\n\r\n'],
    ['bad bytes in response head', 'HTTP/1.1 200 OK\r\nX-A: a\x00b\r\n\r\n'],
    ['bad bytes in response head', 'HTTP/1.1 200 OK\r\nX-A: a\nX-B: b\r\n\r\n'],
    ['bad Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n'],
    ['bad Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n'],
    ['bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
    ['missing CRLF after chunk', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokX\r\n'],
    ['unexpected 101', 'HTTP/1.1 101 Switching Protocols\r\n\r\n'],
    ['response head too large', `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(70_000)}`],
  ];
  for (const [why, text] of malformed) {
    test(`rejects ${JSON.stringify(text.slice(0, 60))}: ${why}`, () => {
      assert.throws(
        () => parse([text]),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'EBADRESPONSE');
          assert.match(err.message, new RegExp(why));
          return true;
        },
      );
    });
  }
  test('a head repeated on one connection is read alike each time; a different one is read afresh', () => {
    const p = new ResponseParser();
    const seen: string[] = [];
    const sink: ResponseSink = {
      onHead: (h) =>
        seen.push(
          `${h.status} ${h.framing} ${JSON.stringify(h.headers)} ${JSON.stringify(h.headerLines)} ${h.hasHsts}`,
        ),
      onBody: () => {},
      onComplete: () => seen.push('complete'),
    };
    const same = 'HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 2\r\n\r\nok';
    for (const [text, head] of [
      [same, false],
      [same, false],
      [same, true],
      [
        'HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
        false,
      ],
      [same, false],
    ] as const) {
      p.reset(sink, head);
      p.execute(Buffer.from(text, 'latin1'));
    }
    const first = `200 1 ["X-A","1","Content-Length","2"] "X-A: 1\\r\\nContent-Length: 2\\r\\n" false`;
    assert.deepEqual(seen, [
      first,
      'complete',
      first,
      'complete',
      // A HEAD request: the same head, no body expected (the length is still passed on).
      `200 0 ["X-A","1","Content-Length","2"] "X-A: 1\\r\\nContent-Length: 2\\r\\n" false`,
      'complete',
      '200 2 ["Strict-Transport-Security","max-age=5"] "Strict-Transport-Security: max-age=5\\r\\n" true',
      'complete',
      first,
      'complete',
    ]);
  });
});
