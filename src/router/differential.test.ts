import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, METHODS, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { RequestRecord } from './context.ts';
import type { RunningRouter } from './router.ts';
import {
  admin,
  mutate,
  openRaw,
  proxyRoute,
  putRoutes,
  seededRandom,
  startTestRouter,
  TOKEN,
  waitFor,
} from './testing.ts';

/**
 * Differential checking of the router against a real backend parser (Node's llhttp): for every
 * case, the requests the backend received equal, one for one, the requests the router parsed,
 * forwarded and counted (method, target, body length), and every response a client gets answers
 * one of its own requests. Cases are generated (every framing header named in Connection, in
 * every spelling and place; benign hop-by-hop tokens; smuggling shapes) and mutated by a seeded
 * fuzzer, so a failure replays.
 */

const HOST = 'diff.test.localhost';
const SERVICE = 'TEST/diff';
const CONCURRENCY = 8;

interface BackendRecord {
  method: string;
  target: string;
  bodyLength: number;
  complete: boolean;
}

/** A backend that records what its HTTP parser read and echoes each target in a header. */
async function recordingBackend(): Promise<{
  server: Server;
  url: string;
  seen: BackendRecord[];
  parseErrors: string[];
}> {
  const seen: BackendRecord[] = [];
  const parseErrors: string[] = [];
  const server = createServer((req, res) => {
    const r: BackendRecord = {
      method: req.method ?? '',
      target: req.url ?? '',
      bodyLength: 0,
      complete: false,
    };
    seen.push(r);
    req.on('data', (c: Buffer) => {
      r.bodyLength += c.length;
    });
    req.on('end', () => {
      r.complete = true;
      const body = `${r.method} ${r.target} ${r.bodyLength}`;
      res.writeHead(200, { 'X-Echo': r.target, 'Content-Length': Buffer.byteLength(body, 'latin1') });
      res.end(body, 'latin1');
    });
  });
  // What the router sent but the backend's parser could not read: a framing disagreement, unless
  // it is the backend's narrower choice of method or target bytes (llhttp knows a fixed list of
  // methods and refuses some bytes above 0x7F that the router lets through, as nginx does): such
  // a request was received whole, at the start of a head the router wrote, and refused.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    const raw = (err as { rawPacket?: Buffer }).rawPacket?.toString('latin1') ?? '';
    // A connection the router cut mid-message (a broken client body) ends in EOF: no disagreement.
    if (err.code?.startsWith('HPE_') && err.code !== 'HPE_INVALID_EOF_STATE') {
      const line = /^([A-Z_-]+) (\S+) HTTP\/1\.1\r\n/.exec(raw);
      const refusedMethod = err.code === 'HPE_INVALID_METHOD' && line && !METHODS.includes(line[1]!);
      if ((refusedMethod || err.code === 'HPE_INVALID_URL') && line && raw.includes('\r\n\r\n')) {
        seen.push({ method: line[1]!, target: line[2]!, bodyLength: 0, complete: false });
      } else {
        parseErrors.push(`${err.code}: ${err.message}: ${JSON.stringify(raw.slice(0, 300))}`);
      }
    }
    // As Node answers by default: 400, then close (a reset would make the router retry a GET).
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, parseErrors };
}

/** One client connection's bytes, sent in parts (each after the router answered the last). */
interface Case {
  name: string;
  parts: string[];
}

/** Sends a case on a fresh connection; resolves with what came back once the router closed it. */
async function run(port: number, c: Case): Promise<string> {
  const raw = await openRaw(port);
  for (let i = 0; i < c.parts.length && !raw.socket.destroyed; i++) {
    const seenBefore = raw.text().length;
    if (i === c.parts.length - 1) raw.socket.end(c.parts[i]!, 'latin1');
    else {
      raw.socket.write(c.parts[i]!, 'latin1');
      // The next part follows an answer (or the close): a later request on the same connection.
      await Promise.race([
        raw.closed,
        waitFor(() => raw.text().length > seenBefore, 5000, `an answer to ${c.name}`),
      ]);
    }
  }
  await raw.closed;
  return raw.text();
}

const HIDDEN = `GET /hidden HTTP/1.1\r\nHost: ${HOST}\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n`;

/** Every framing header named by Connection, in every spelling, list order and header split. */
function connectionCases(): Case[] {
  const cases: Case[] = [];
  const spell = (n: string) => [
    n,
    n.toLowerCase(),
    n.toUpperCase(),
    [...n].map((ch, i) => (i % 2 ? ch.toLowerCase() : ch.toUpperCase())).join(''),
  ];
  const lists = (t: string) => [
    [t],
    ['keep-alive', t],
    [t, 'keep-alive'],
    ['close', t],
    [t, 'close'],
    ['Upgrade', t],
    [t, 'TE'],
    ['x-other', t, 'keep-alive'],
  ];
  let n = 0;
  for (const name of ['Content-Length', 'Transfer-Encoding', 'Host']) {
    for (const t of spell(name)) {
      for (const list of lists(t)) {
        for (const split of [false, true]) {
          const connection = split
            ? `Connection: ${list[0]}\r\nConnection: ${list.slice(1).join(', ') || 'keep-alive'}\r\n`
            : `Connection: ${list.join(', ')}\r\n`;
          const body =
            name === 'Transfer-Encoding'
              ? `Transfer-Encoding: chunked\r\n\r\n${HIDDEN.length.toString(16)}\r\n${HIDDEN}\r\n0\r\n\r\n`
              : `Content-Length: ${HIDDEN.length}\r\n\r\n${HIDDEN}`;
          const carrier = `POST /conn${n++} HTTP/1.1\r\nHost: ${HOST}\r\n${connection}${body}`;
          // A request after it on the same connection must not be served either (the 400 closes).
          cases.push({
            name: `Connection names ${t} (${list.join(',')})`,
            parts: [carrier, `GET /after${n} HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`],
          });
        }
      }
    }
  }
  return cases;
}

/** Hop-by-hop tokens that frame nothing: the request is forwarded, its body intact. */
function benignCases(): Case[] {
  const cases: Case[] = [];
  let n = 0;
  for (const token of ['X-Hop', 'x-hop', 'TE', 'Keep-Alive', 'Trailer', 'Upgrade', 'Cookie']) {
    for (const list of [[token], ['keep-alive', token], [token, 'close']]) {
      cases.push({
        name: `Connection: ${list.join(', ')}`,
        parts: [
          `POST /benign${n++} HTTP/1.1\r\nHost: ${HOST}\r\nConnection: ${list.join(', ')}\r\nX-Hop: a\r\nContent-Length: 5\r\n\r\nhello` +
            `GET /benign${n++} HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`,
        ],
      });
    }
  }
  return cases;
}

/** Shapes that have smuggled requests past proxies, and broken framing followed by a request. */
function smugglingCases(): Case[] {
  const next = (i: number) => `GET /next${i} HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`;
  const post = (i: number, headers: string, body: string) =>
    `POST /s${i} HTTP/1.1\r\nHost: ${HOST}\r\n${headers}\r\n${body}`;
  const shapes = [
    ['Content-Length: 4\r\nTransfer-Encoding: chunked\r\n', `0\r\n\r\n${HIDDEN}`],
    ['Transfer-Encoding: chunked\r\nContent-Length: 4\r\n', `0\r\n\r\n${HIDDEN}`],
    ['Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n', `0\r\n\r\n${HIDDEN}`],
    ['Transfer-Encoding: xchunked\r\n', `0\r\n\r\n${HIDDEN}`],
    ['Transfer-Encoding : chunked\r\n', `0\r\n\r\n${HIDDEN}`],
    ['Transfer_Encoding: chunked\r\nContent-Length: 5\r\n', `0\r\n\r\n${HIDDEN}`],
    ['Content-Length: 5\r\nContent-Length: 6\r\n', `hello!${HIDDEN}`],
    ['Content-Length: +5\r\n', `hello${HIDDEN}`],
    ['Transfer-Encoding: chunked\r\n', `zz\r\nhello\r\n0\r\n\r\n${HIDDEN}`],
    ['Transfer-Encoding: chunked\r\n', `5\nhello\r\n0\r\n\r\n${HIDDEN}`],
    ['Transfer-Encoding: chunked\r\n', `5\r\nhello0\r\n\r\n${HIDDEN}`],
    ['Transfer-Encoding: chunked\r\n', `-5\r\nhello\r\n0\r\n\r\n${HIDDEN}`],
    ['Transfer-Encoding: chunked\r\n', `5;ext\rx\r\nhello\r\n0\r\n\r\n${HIDDEN}`],
    ['Transfer-Encoding:\tchunked\r\nX: y\r\n', `0\r\n\r\n${HIDDEN}`],
    ['X: y\nTransfer-Encoding: chunked\r\n', `0\r\n\r\n${HIDDEN}`],
    ['Expect: 100-continue\r\nContent-Length: 5\r\n', `hello${HIDDEN}`],
  ];
  const cases: Case[] = shapes.map(([headers, body], i) => ({
    name: `smuggling shape ${i}: ${JSON.stringify(headers)}`,
    parts: [post(i, headers!, body!), next(i)],
  }));
  // An upgrade the backend declines, with a request right behind its head.
  cases.push({
    name: 'declined upgrade with a request behind it',
    parts: [
      `GET /up HTTP/1.1\r\nHost: ${HOST}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n${HIDDEN}`,
    ],
  });
  return cases;
}

const VALID = [
  `GET /v?b=1 HTTP/1.1\r\nHost: ${HOST}\r\nAccept: */*\r\n\r\n`,
  `POST /p HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 5\r\n\r\nhello`,
  `PUT /c HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`,
  `POST /k HTTP/1.1\r\nHost: ${HOST}\r\nConnection: keep-alive, X-Hop\r\nContent-Length: 3\r\n\r\nabcGET /two HTTP/1.0\r\nHost: ${HOST}\r\n\r\n`,
];
const NASTY = [
  '\r',
  '\n',
  '\0',
  ' ',
  ':',
  ',',
  '_',
  '\t',
  '\x7f',
  '\xff',
  'Transfer-Encoding: chunked\r\n',
  'Content-Length: 0\r\n',
  'Connection: content-length\r\n',
  '0\r\n\r\n',
  '-1',
];

function fuzzCases(count: number): Case[] {
  const rnd = seededRandom(Number(process.env.GOVHOST_FUZZ_SEED ?? 20261206));
  return Array.from({ length: count }, (_, i) => {
    // Each case has its own paths, so that the two sides' records pair up.
    const text = mutate(rnd, VALID[i % VALID.length]!.replaceAll(/ \/(\w+)/g, ` /$1-${i}`), NASTY);
    // Upper-casing can leave latin1 (ÿ → Ÿ): keep the text as the bytes that go on the wire.
    const wire = Buffer.from(text, 'latin1').toString('latin1');
    return { name: `fuzz ${i}: ${JSON.stringify(wire)}`, parts: [wire] };
  });
}

/** Runs cases `CONCURRENCY` at a time, each on its own connection. */
async function runAll(port: number, cases: Case[]): Promise<Map<Case, string>> {
  const out = new Map<Case, string>();
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const c = cases[next++]!;
      out.set(c, await run(port, c));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return out;
}

const key = (method: string, target: string) => `${method} ${target}`;

describe('router: differential check against a real backend parser', () => {
  let router: RunningRouter;
  let backend: Awaited<ReturnType<typeof recordingBackend>>;
  const records: RequestRecord[] = [];

  before(async () => {
    backend = await recordingBackend();
    router = await startTestRouter({
      clientIdleTimeoutMs: 1000,
      upstreamTimeoutMs: 5000,
      onRequest: (r) => records.push(r),
    });
    await putRoutes(router, [proxyRoute(HOST, [{ id: 'd1', url: backend.url }], SERVICE)]);
  });
  after(async () => {
    await router.close(1000);
    await new Promise<void>((resolve) => {
      backend.server.close(() => resolve());
      backend.server.closeAllConnections();
    });
  });

  test('generated and fuzzed cases: the backend got exactly what the router parsed and counted', async () => {
    const cases = [
      ...connectionCases(),
      ...benignCases(),
      ...smugglingCases(),
      ...fuzzCases(Number(process.env.GOVHOST_FUZZ_CASES ?? 3000)),
    ];
    const started = performance.now();
    const answers = await runAll(router.port, cases);
    // A client on fresh connections while nothing else runs: its answers are its own.
    const innocent = await runAll(
      router.port,
      Array.from({ length: 8 }, (_, i) => ({
        name: `innocent ${i}`,
        parts: [`GET /innocent${i} HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`],
      })),
    );
    const seconds = (performance.now() - started) / 1000;
    const all = new Map([...answers, ...innocent]);

    // 1. No response reaches a client other than the one whose request produced it.
    for (const [c, text] of all) {
      const sent = c.parts.join('');
      for (const m of text.matchAll(/\r\nX-Echo: ([^\r]*)\r\n/g)) {
        const target = m[1]!;
        assert.ok(sent.includes(target), `${c.name}: got the answer to ${target}, which it never sent`);
      }
    }
    for (const [c, text] of innocent)
      assert.match(text, new RegExp(`X-Echo: /innocent${c.name.split(' ')[1]}\r\n`));

    // 2. The backend's parser read every forwarded head the way the router wrote it.
    assert.deepEqual(backend.parseErrors, []);

    // 3. One for one: what the backend received is what the router forwarded, nothing else.
    const forwarded = new Map<string, number>();
    for (const r of records)
      if (r.forwarded > 0)
        forwarded.set(key(r.method, r.target), (forwarded.get(key(r.method, r.target)) ?? 0) + r.forwarded);
    const received = new Map<string, number>();
    for (const s of backend.seen)
      received.set(key(s.method, s.target), (received.get(key(s.method, s.target)) ?? 0) + 1);
    assert.deepEqual(
      [...received].sort(),
      [...forwarded].sort(),
      'requests the backend received differ from those the router forwarded',
    );
    // (A /hidden request the router itself parsed, pipelined after a body it read in full, is the
    // client's own; one the router did not parse shows up above as received but not forwarded.)

    // 4. Body lengths: a request the backend answered had all of the body the router read.
    const completed = new Map<string, number>();
    for (const b of backend.seen) {
      if (b.complete)
        completed.set(
          `${key(b.method, b.target)} ${b.bodyLength}`,
          (completed.get(`${key(b.method, b.target)} ${b.bodyLength}`) ?? 0) + 1,
        );
    }
    for (const r of records) {
      if (r.forwarded === 0 || r.status !== 200) continue;
      const k = `${key(r.method, r.target)} ${r.bytesIn}`;
      const left = completed.get(k) ?? 0;
      assert.ok(
        left > 0,
        `${k}: answered 200, but the backend never finished a request with that body length`,
      );
      completed.set(k, left - 1);
    }

    // 5. Counted: the router's metrics for the service hold every request it answered for it.
    const m = await admin(router, 'GET', '/metrics?raw=1', undefined, TOKEN);
    const counters = m.body.services[SERVICE] as { classes: number[] };
    const counted = counters.classes.reduce((a, b) => a + b, 0);
    assert.equal(counted, records.filter((r) => r.service === SERVICE).length);

    // Every Connection-names-a-framing-header case was refused and its later request not served.
    for (const c of connectionCases()) {
      const text = all.get([...all.keys()].find((k) => k.name === c.name && k.parts[0] === c.parts[0])!)!;
      assert.match(text, /^HTTP\/1\.1 400 /, c.name);
      assert.doesNotMatch(text, /X-Echo/, c.name);
    }
    const benignServed = backend.seen.filter((s) => s.target.startsWith('/benign') && s.complete).length;
    // Both requests of each, but the second is never read after a first that asked to close.
    const benignSent = benignCases().reduce(
      (n, c) => n + (/Connection: [^\r]*close\r\nX-Hop/.test(c.parts[0]!) ? 1 : 2),
      0,
    );
    assert.equal(benignServed, benignSent);
    console.log(
      `differential: ${cases.length + innocent.size} cases, ${records.length} requests parsed, ` +
        `${backend.seen.length} received by the backend, in ${seconds.toFixed(1)} s`,
    );
  });
});
