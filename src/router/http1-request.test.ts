import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseRequestHead, RequestError } from './http1-request.ts';

const head = (...lines: string[]) => lines.join('\r\n');

function rejects(text: string, status: number): void {
  assert.throws(
    () => parseRequestHead(text),
    (err: unknown) => err instanceof RequestError && err.status === status,
    `expected ${status} for ${JSON.stringify(text)}`,
  );
}

describe('parseRequestHead', () => {
  test('reads the request line and headers, keeping names as sent', () => {
    const h = parseRequestHead(head('GET /a?b=1 HTTP/1.1', 'Host: Svc.Example:8080', 'X-Thing:  spaced  '));
    assert.equal(h.method, 'GET');
    assert.equal(h.target, '/a?b=1');
    assert.equal(h.http10, false);
    assert.equal(h.host, 'Svc.Example:8080');
    assert.deepEqual(h.names, ['Host', 'X-Thing']);
    assert.deepEqual(h.values, ['Svc.Example:8080', 'spaced']);
    assert.equal(h.close, false);
    assert.equal(h.contentLength, -1);
  });

  test('connection handling: close, HTTP/1.0 default, keep-alive, upgrade, extra tokens', () => {
    assert.equal(parseRequestHead(head('GET / HTTP/1.1', 'Host: a', 'Connection: close')).close, true);
    assert.equal(parseRequestHead(head('GET / HTTP/1.0')).close, true);
    assert.equal(parseRequestHead(head('GET / HTTP/1.0', 'Connection: keep-alive')).close, false);
    const up = parseRequestHead(
      head('GET / HTTP/1.1', 'Host: a', 'Connection: Upgrade, X-Hop', 'Upgrade: websocket'),
    );
    assert.equal(up.upgrade, 'websocket');
    assert.deepEqual([...(up.connectionExtra ?? [])], ['x-hop']);
    // Upgrade without Connection: upgrade is not an upgrade request.
    assert.equal(parseRequestHead(head('GET / HTTP/1.1', 'Host: a', 'Upgrade: websocket')).upgrade, null);
  });

  test('bodies: Content-Length (equal repeats allowed), chunked, Expect', () => {
    assert.equal(parseRequestHead(head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 5')).contentLength, 5);
    assert.equal(
      parseRequestHead(head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 5, 5')).contentLength,
      5,
    );
    const c = parseRequestHead(head('POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked'));
    assert.equal(c.chunked, true);
    const e = parseRequestHead(
      head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 1', 'Expect: 100-continue'),
    );
    assert.equal(e.expectContinue, true);
  });

  test('raw bytes above 0x7F in the target pass through unchanged (old clients send them)', () => {
    const latin1 = Buffer.from('GET /稅務 HTTP/1.1\r\nHost: a').toString('latin1');
    assert.equal(Buffer.from(parseRequestHead(latin1).target, 'latin1').toString(), '/稅務');
  });

  test('absolute-form targets route by their authority; * only for OPTIONS', () => {
    const h = parseRequestHead(head('GET http://Svc.Example/x?y HTTP/1.1', 'Host: other'));
    assert.equal(h.host, 'Svc.Example');
    assert.equal(h.target, '/x?y');
    assert.equal(h.hostFromTarget, true);
    assert.equal(parseRequestHead(head('GET http://svc.example HTTP/1.1', 'Host: svc.example')).target, '/');
    assert.equal(parseRequestHead(head('OPTIONS * HTTP/1.1', 'Host: a')).target, '*');
    rejects(head('GET * HTTP/1.1', 'Host: a'), 400);
    rejects(head('CONNECT svc.example:443 HTTP/1.1', 'Host: svc.example'), 405);
  });

  test('Expect is an HTTP/1.1 header: an HTTP/1.0 request’s is ignored, whatever it says', () => {
    assert.equal(
      parseRequestHead(head('PUT / HTTP/1.0', 'Content-Length: 1', 'Expect: 100-continue')).expectContinue,
      false,
    );
    assert.equal(
      parseRequestHead(head('PUT / HTTP/1.0', 'Content-Length: 1', 'Expect: magic')).expectContinue,
      false,
    );
  });

  test('close wins over keep-alive in any order or header; HTTP/1.0 keep-alive needs asking', () => {
    assert.equal(
      parseRequestHead(head('GET / HTTP/1.0', 'Connection: close', 'Connection: keep-alive')).close,
      true,
    );
    assert.equal(parseRequestHead(head('GET / HTTP/1.0', 'Connection: keep-alive, close')).close, true);
    assert.equal(parseRequestHead(head('GET / HTTP/1.1', 'Host: a', 'Connection: keep-alive')).close, false);
  });

  // A Connection header naming a header that frames the request or picks its route: hop-by-hop
  // removal of it would smuggle the body past the router as a request. Every name, spelling and
  // place in the list is refused.
  const framing = ['Content-Length', 'Transfer-Encoding', 'Host'];
  const spellings = (n: string) => [
    n,
    n.toLowerCase(),
    n.toUpperCase(),
    n.replace(/[a-z]/g, (c, i) => (i % 2 ? c.toUpperCase() : c)),
  ];
  const layouts = (t: string) => [
    [t],
    ['keep-alive', t],
    [t, 'keep-alive'],
    ['close', t],
    [`${t} `, 'Upgrade'],
    [t, t],
  ];
  for (const name of framing) {
    test(`refuses a Connection header that names ${name}, in every spelling and place`, () => {
      for (const t of spellings(name)) {
        for (const list of layouts(t)) {
          rejects(
            head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 1', `Connection: ${list.join(', ')}`),
            400,
          );
          // In a second Connection header too.
          rejects(
            head(
              'POST / HTTP/1.1',
              'Host: a',
              'Connection: keep-alive',
              'Content-Length: 1',
              `Connection: ${list.join(',')}`,
            ),
            400,
          );
        }
      }
    });
  }

  // Each of these could be read differently by the router and a backend (request smuggling)
  // or is simply broken: all are refused before anything is forwarded.
  const refused: [string, number, string][] = [
    ['bare LF between headers', 400, 'GET / HTTP/1.1\r\nHost: a\nX-B: c'],
    ['bare CR in a value', 400, 'GET / HTTP/1.1\r\nHost: a\rX-B: c'],
    ['NUL in a value', 400, 'GET / HTTP/1.1\r\nHost: a\r\nX-B: c\x00d'],
    ['space before the colon', 400, 'GET / HTTP/1.1\r\nHost : a'],
    ['folded header line', 400, 'GET / HTTP/1.1\r\nHost: a\r\nX-B: c\r\n d'],
    ['no colon', 400, 'GET / HTTP/1.1\r\nHost: a\r\nNoColon'],
    ['no Host in HTTP/1.1', 400, 'GET / HTTP/1.1\r\nX-A: b'],
    ['two Hosts', 400, 'GET / HTTP/1.1\r\nHost: a\r\nHost: b'],
    [
      'Content-Length and Transfer-Encoding',
      400,
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked',
    ],
    [
      'two different Content-Lengths',
      400,
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4',
    ],
    ['signed Content-Length', 400, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3'],
    ['coding other than chunked', 501, 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked'],
    [
      'chunked twice',
      501,
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked',
    ],
    ['Transfer-Encoding in HTTP/1.0', 400, 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked'],
    ['HTTP/2.0', 505, 'GET / HTTP/2.0\r\nHost: a'],
    ['HTTP/1.2', 505, 'GET / HTTP/1.2\r\nHost: a'],
    ['lower-case version', 400, 'GET / http/1.1\r\nHost: a'],
    ['two spaces in the request line', 400, 'GET  / HTTP/1.1\r\nHost: a'],
    ['bad method', 400, 'G(T / HTTP/1.1\r\nHost: a'],
    ['unknown expectation', 417, 'POST / HTTP/1.1\r\nHost: a\r\nExpect: magic'],
    ['too many headers', 431, `GET / HTTP/1.1\r\nHost: a${'\r\nX-A: b'.repeat(100)}`],
  ];
  for (const [why, status, text] of refused) {
    test(`refuses ${why} with ${status}`, () => rejects(text, status));
  }
});
