import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { until } from '../test-support/until.ts';
import type { Route, RouteTable } from './route-table.ts';
import type { RunningRouter } from './router.ts';
import { routerOptionsFromEnv } from './router-config.ts';
import {
  admin,
  ask,
  proxyRoute,
  type Reply,
  startBackend,
  startTestRouter,
  type TestBackend,
} from './testing.ts';
import { handshake, NO_OPENSSL, type Pem, TestCa } from './tls-testing.ts';

/** One HTTPS request to the router, SNI and Host both `host`, trusting the test CA only. */
function askTls(
  port: number,
  ca: string,
  host: string,
  path = '/',
  headers: Record<string, string> = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, servername: host, ca, agent: false, headers: { host, ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
            localPort: req.socket?.localPort ?? 0,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const ref = (b: TestBackend) => [{ id: b.id, url: b.url }];
// As a CA sends them: 43 base64url characters (RFC 8555 §8.1), and the account key's thumbprint.
const TOKEN_A = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';
const THUMB = 'nP1qzpXGymHBrUEepNY9HCsQk7K8KhOypzEt62jcerQ';
const cert = (id: string, p: Pem) => ({ id, chain: p.chain, key: p.key });
let version = 1;

describe('HTTPS termination', { skip: NO_OPENSSL }, () => {
  let ca: TestCa;
  let backend: TestBackend;
  let router: RunningRouter;
  let https: number;
  let exact: Pem;
  let wildcard: Pem;
  let edb: Pem;
  let routes: Route[];
  const put = (t: Omit<RouteTable, 'version'>) =>
    admin(router, 'PUT', '/routes', { version: version++, ...t });

  before(async () => {
    ca = new TestCa();
    exact = ca.issue(['a.ird.test']);
    wildcard = ca.issue(['*.ird.test']);
    edb = ca.issue(['b.edb.test']);
    backend = await startBackend('be');
    router = await startTestRouter({ httpsPort: 0 });
    https = router.httpsPort!;
    routes = [
      proxyRoute('a.ird.test', ref(backend)),
      proxyRoute('x.ird.test', ref(backend)),
      { ...proxyRoute('quiet.ird.test', ref(backend)), httpsRedirect: false, hsts: false },
      proxyRoute('b.edb.test', ref(backend)),
      proxyRoute('plain.dsd.test', ref(backend)),
    ];
    const r = await put({
      routes,
      certificates: [cert('exact', exact), cert('wild', wildcard), cert('edb', edb)],
      acmeChallenges: [{ token: TOKEN_A, keyAuthorization: `${TOKEN_A}.${THUMB}` }],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  });
  after(async () => {
    await router?.close(0);
    await backend?.close();
    ca?.close();
  });

  test('SNI picks the certificate: the exact name first, then the wildcard one label up', async () => {
    const a = await handshake(https, 'a.ird.test', ca.root);
    assert.equal(a.error, null);
    assert.equal(a.cert?.subjectaltname, 'DNS:a.ird.test');
    assert.equal(a.protocol, 'TLSv1.3');
    const x = await handshake(https, 'X.ird.test', ca.root);
    assert.equal(x.cert?.subjectaltname, 'DNS:*.ird.test');
    const b = await handshake(https, 'b.edb.test', ca.root);
    assert.equal(b.cert?.subjectaltname, 'DNS:b.edb.test');
  });

  test('a name no certificate covers, or no SNI at all, fails without showing any certificate', async () => {
    for (const name of ['plain.dsd.test', 'deep.x.ird.test', 'ird.test', null]) {
      const h = await handshake(https, name, ca.root);
      assert.notEqual(h.error, null, `${name} completed a handshake`);
      assert.equal(h.cert, null, `${name} was shown ${h.cert?.subjectaltname}`);
    }
  });

  test('TLS 1.1 is refused; TLS 1.2 gets an ECDHE AEAD suite', async () => {
    const old = await new Promise<string>((resolve) => {
      const s = tlsConnect({
        host: '127.0.0.1',
        port: https,
        servername: 'a.ird.test',
        ca: ca.root,
        minVersion: 'TLSv1',
        maxVersion: 'TLSv1.1',
      });
      s.once('secureConnect', () => resolve('connected'));
      s.once('error', (e) => resolve(e.message));
    });
    assert.notEqual(old, 'connected');
    const suite = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({
        host: '127.0.0.1',
        port: https,
        servername: 'a.ird.test',
        ca: ca.root,
        maxVersion: 'TLSv1.2',
      });
      s.once('secureConnect', () => {
        resolve(s.getCipher().name);
        s.destroy();
      });
      s.once('error', reject);
    });
    assert.match(suite, /^ECDHE-ECDSA-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
  });

  test('X-Forwarded-Proto is https from the connection, never the client; HSTS unless turned off', async () => {
    const r = await askTls(https, ca.root, 'a.ird.test', '/p', { 'x-forwarded-proto': 'http' });
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.body) as { headers: Record<string, string> };
    assert.equal(seen.headers['x-forwarded-proto'], 'https');
    assert.equal(seen.headers['x-forwarded-port'], String(https));
    assert.equal(r.headers['strict-transport-security'], 'max-age=31536000');
    const quiet = await askTls(https, ca.root, 'quiet.ird.test');
    assert.equal(quiet.status, 200);
    assert.equal(quiet.headers['strict-transport-security'], undefined);
    // Over plain HTTP the router says http, and never sends HSTS.
    const plain = await ask(router.port, {
      host: 'plain.dsd.test',
      headers: { 'x-forwarded-proto': 'https' },
    });
    assert.equal(JSON.parse(plain.body).headers['x-forwarded-proto'], 'http');
    assert.equal(plain.headers['strict-transport-security'], undefined);
  });

  test('plain HTTP to a covered host is redirected: 301 for GET and HEAD, 308 otherwise, path and query kept', async () => {
    const get = await ask(router.port, { host: 'a.ird.test', path: '/form?x=1' });
    assert.equal(get.status, 301);
    assert.equal(get.headers.location, `https://a.ird.test:${https}/form?x=1`);
    const head = await ask(router.port, { host: 'a.ird.test', path: '/h', method: 'HEAD' });
    assert.equal(head.status, 301);
    const post = await ask(router.port, { host: 'X.IRD.test', path: '/submit', method: 'POST', body: 'a=1' });
    assert.equal(post.status, 308);
    assert.equal(post.headers.location, `https://x.ird.test:${https}/submit`);
    // Turned off for the service, and no certificate for the host: served over HTTP.
    assert.equal((await ask(router.port, { host: 'quiet.ird.test' })).status, 200);
    assert.equal((await ask(router.port, { host: 'plain.dsd.test' })).status, 200);
  });

  test('ACME challenges are answered on HTTP for any host, never redirected nor proxied', async () => {
    const hits = backend.hits;
    const path = `/.well-known/acme-challenge/${TOKEN_A}`;
    // A host that redirects everything else, a host without a route at all.
    for (const host of ['a.ird.test', 'not-yet-routed.example.test']) {
      const r = await ask(router.port, { host, path });
      assert.equal(r.status, 200, host);
      assert.equal(r.headers['content-type'], 'text/plain');
      assert.equal(r.body, `${TOKEN_A}.${THUMB}`);
    }
    const unknown = await ask(router.port, { host: 'a.ird.test', path: '/.well-known/acme-challenge/other' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.headers.location, undefined);
    assert.equal(
      (await ask(router.port, { host: 'plain.dsd.test', path, method: 'POST', body: 'x' })).status,
      405,
    );
    assert.equal(backend.hits, hits, 'no challenge reached a backend');
    // Over HTTPS the path is the service's own.
    const secure = await askTls(https, ca.root, 'a.ird.test', path);
    assert.equal(JSON.parse(secure.body).url, path);
    assert.equal(backend.hits, hits + 1);
  });

  test('bad ACME challenges in a table are refused, each named', async () => {
    const r = await put({
      routes,
      acmeChallenges: [
        { token: 'a/../b', keyAuthorization: 'a/../b.x' },
        { token: TOKEN_A, keyAuthorization: `other.${THUMB}` },
        { token: TOKEN_A, keyAuthorization: `${TOKEN_A}.${THUMB}` },
        { token: TOKEN_A, keyAuthorization: `${TOKEN_A}.${THUMB}` },
      ],
    });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body.errors, [
      'acmeChallenges[0].token: must be 1-256 base64url characters (A-Z a-z 0-9 - _)',
      'acmeChallenges[1].keyAuthorization: must be the token, a dot and a base64url thumbprint',
      `acmeChallenges[3].token: ${TOKEN_A} is listed twice`,
    ]);
  });

  test('a certificate replaced or removed while the router runs: new handshakes see it', async () => {
    const before = await handshake(https, 'a.ird.test', ca.root);
    const renewed = ca.issue(['a.ird.test']);
    assert.equal(
      (await put({ routes, certificates: [cert('exact', renewed), cert('edb', edb)] })).status,
      200,
    );
    const afterRenewal = await handshake(https, 'a.ird.test', ca.root);
    assert.equal(afterRenewal.error, null);
    assert.notEqual(afterRenewal.cert?.fingerprint256, before.cert?.fingerprint256);
    assert.equal(afterRenewal.cert?.fingerprint256, new X509Certificate(renewed.chain).fingerprint256);
    // The wildcard is gone: x.ird.test has no certificate, so no handshake and no redirect.
    assert.equal((await handshake(https, 'x.ird.test', ca.root)).cert, null);
    assert.equal((await ask(router.port, { host: 'x.ird.test' })).status, 200);
    // Keys never leave the router through its admin API.
    const held = await admin(router, 'GET', '/routes');
    assert.equal(held.body.certificates.length, 2);
    assert.doesNotMatch(JSON.stringify(held.body), /PRIVATE KEY/);
  });

  test('a table with a certificate whose key does not match is refused with the reason', async () => {
    const r = await put({ routes, certificates: [{ ...cert('bad', exact), key: ca.strayKey() }] });
    assert.equal(r.status, 400);
    assert.match(
      r.body.detail,
      /certificates\[0\] \(id "bad"\): the private key does not belong to the first certificate/,
    );
  });
});

describe('certificate keys in the state file', { skip: NO_OPENSSL }, () => {
  test('are sealed, and open again after a restart', async () => {
    const ca = new TestCa();
    const dir = mkdtempSync(join(tmpdir(), 'govhost-tls-state-'));
    const backend = await startBackend('be');
    const statePath = join(dir, 'routes.json');
    try {
      const pem = ca.issue(['a.ird.test']);
      let router = await startTestRouter({ httpsPort: 0, statePath });
      const table = {
        version: 5,
        routes: [proxyRoute('a.ird.test', ref(backend))],
        certificates: [cert('c', pem)],
      };
      assert.equal((await admin(router, 'PUT', '/routes', table)).status, 200);
      await router.close(0);
      const text = readFileSync(statePath, 'utf8');
      assert.doesNotMatch(text, /PRIVATE KEY/);
      assert.match(JSON.parse(text).certificates[0].key, /^v1:/);
      assert.equal(readFileSync(`${statePath}.key`, 'utf8').length, 44);
      assert.equal(statSync(`${statePath}.key`).mode & 0o777, 0o600);
      router = await startTestRouter({ httpsPort: 0, statePath });
      try {
        const h = await handshake(router.httpsPort!, 'a.ird.test', ca.root);
        assert.equal(h.cert?.subjectaltname, 'DNS:a.ird.test');
        const r = await askTls(router.httpsPort!, ca.root, 'a.ird.test');
        assert.equal(r.status, 200);
      } finally {
        await router.close(0);
      }
      // Another key cannot open the file: it is moved aside and the router starts empty.
      router = await startTestRouter({
        httpsPort: 0,
        statePath,
        stateKey: Buffer.alloc(32, 7).toString('base64'),
      });
      try {
        assert.equal((await admin(router, 'GET', '/routes')).body.version, 0);
      } finally {
        await router.close(0);
      }
    } finally {
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
      ca.close();
    }
  });
});

describe('HTTPS in every cluster worker, certificates from the control plane', { skip: NO_OPENSSL }, () => {
  test('a clustered router following the route stream serves its certificates, challenges and renewals', async () => {
    const ca = new TestCa();
    const backend = await startBackend('be');
    // A stand-in for GET /api/v1/runtime/routes (see follow.test.ts): the table when newer, else 204.
    let table: RouteTable = { version: 0, routes: [] };
    const cp = createHttpServer((req, res) => {
      const after = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('after'));
      if (table.version > after)
        return res.setHeader('content-type', 'application/json').end(JSON.stringify(table));
      setTimeout(() => res.writeHead(204).end(), 50);
    });
    await new Promise<void>((r) => cp.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(cp.address() as AddressInfo).port}`;
    let router: RunningRouter | null = null;
    try {
      const first = ca.issue(['a.ird.test']);
      table = {
        version: 3,
        routes: [
          proxyRoute('a.ird.test', ref(backend)),
          // Refused (no static root on this host): the certificates must still come through.
          {
            hostname: 'files.ird.test',
            service: 'IRD/files',
            kind: 'static',
            backends: [],
            staticRoot: '/srv/x',
          },
        ],
        certificates: [cert('a', first)],
        acmeChallenges: [{ token: TOKEN_A, keyAuthorization: `${TOKEN_A}.${THUMB}` }],
      };
      router = await startTestRouter({
        httpsPort: 0,
        workers: 2,
        controlPlane: { url, token: 'ghk_router' },
      });
      const port = router.httpsPort!;
      const fingerprint = async () => (await handshake(port, 'a.ird.test', ca.root)).cert?.fingerprint256;
      await until(
        'the table from the control plane',
        async () => (await fingerprint()) !== undefined,
        15_000,
      );
      // Enough connections that both workers (round-robin) terminate some.
      const answers = await Promise.all(Array.from({ length: 8 }, () => askTls(port, ca.root, 'a.ird.test')));
      assert.deepEqual(
        answers.map((a) => [a.status, a.headers['strict-transport-security']]),
        Array(8).fill([200, 'max-age=31536000']),
      );
      const acme = await ask(router.port, {
        host: 'a.ird.test',
        path: `/.well-known/acme-challenge/${TOKEN_A}`,
      });
      assert.equal(acme.body, `${TOKEN_A}.${THUMB}`);
      // Renewed on the control plane: new handshakes, on every worker, get the new certificate.
      const renewed = ca.issue(['a.ird.test']);
      const want = new X509Certificate(renewed.chain).fingerprint256;
      table = { ...table, version: 4, certificates: [cert('a', renewed)] };
      await until('the renewed certificate', async () => (await fingerprint()) === want, 15_000);
      const seen = await Promise.all(Array.from({ length: 8 }, fingerprint));
      assert.deepEqual(seen, Array(8).fill(want));
    } finally {
      await router?.close(0);
      cp.closeAllConnections();
      await new Promise((r) => cp.close(r));
      await backend.close();
      ca.close();
    }
  });
});

test('GOVHOST_ROUTER_HTTPS_PORT and GOVHOST_ROUTER_STATE_KEY are read and checked', () => {
  const token = { GOVHOST_ROUTER_ADMIN_TOKEN: 'a'.repeat(16) };
  assert.equal(routerOptionsFromEnv(token).httpsPort, null);
  const key = Buffer.alloc(32, 1).toString('base64');
  const o = routerOptionsFromEnv({
    ...token,
    GOVHOST_ROUTER_HTTPS_PORT: '8443',
    GOVHOST_ROUTER_STATE_KEY: key,
  });
  assert.equal(o.httpsPort, 8443);
  assert.equal(o.stateKey, key);
  assert.throws(
    () =>
      routerOptionsFromEnv({
        ...token,
        GOVHOST_ROUTER_HTTPS_PORT: '8080',
        GOVHOST_ROUTER_STATE_KEY: 'c2hvcnQ=',
      }),
    /GOVHOST_ROUTER_HTTPS_PORT must differ from the HTTP and admin ports[\s\S]*GOVHOST_ROUTER_STATE_KEY must be the base64 encoding of 32 random bytes/,
  );
});
