// test-seconds: 52
// The edge end to end: the real server process with its runtime and router (HTTP and HTTPS), a
// real ACME CA (Debian's pebble) and its DNS server on loopback. A name a deploy's manifest claims
// is not routed until an operator approves it; a rejected or removed one stops. Platform names get
// certificates through ACME (the router answers the CA's HTTP-01 challenge); an operator's uploaded
// wildcard is served by SNI and ACME leaves its hosts alone; redirect and HSTS per service. Live
// payment keys (the sandbox standing in as the live provider) work over the router's HTTPS only,
// and a payment webhook goes to the router's HTTPS listener, pinned to the stored certificate.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  payOnCardPage,
  type RunningSandbox,
  startSandbox,
} from '../../src/payments/sandbox/sandbox.testing.ts';
import { TestCa } from '../../src/router/tls-testing.ts';
import { CHALLTESTSRV, startChallTestSrv } from '../../src/test-support/challtestsrv.ts';
import { describeFailure, runCommand } from '../../src/test-support/command.ts';
import { freePort } from '../../src/test-support/free-port.ts';
import { PEBBLE, type RunningPebble, startPebble } from '../../src/test-support/pebble.ts';
import {
  BIN,
  cleanEnv,
  type GovhostProcess,
  startServer,
  stopProcess,
} from '../../src/test-support/server-process.ts';
import {
  type Api,
  apiClient,
  closeAgent,
  createService,
  deployDir,
  untilServed,
  viaRouter,
} from './runtime-helpers.ts';

const EXAMPLES = fileURLToPath(new URL('../../examples/apps/', import.meta.url));
const missing = [PEBBLE, CHALLTESTSRV, '/usr/bin/openssl'].find((p) => !existsSync(p));
const work = mkdtempSync(join(tmpdir(), 'govhost-edge-e2e-'));
let env: NodeJS.ProcessEnv;
const DEPT = 'DOM';
const DOMAIN = 'edge.test';
const PLATFORM_HOST = `site.${DEPT.toLowerCase()}.${DOMAIN}`;
const CUSTOM = 'site.dom.gov.example';
const SECOND = 'www.dom.gov.example';
/** A custom name under the department's own domain, which an uploaded wildcard covers. */
const WILDCARD_HOST = 'tls.dom.gov.example';

let dns: Awaited<ReturnType<typeof startChallTestSrv>>;
let pebble: RunningPebble;
let httpsPort: number;

let sandbox: RunningSandbox;
let server: GovhostProcess;
let baseUrl: string;
let routerUrl: string;
let admin: Api;
let cliEnv: NodeJS.ProcessEnv;

/** `govhost <args>` as an operator runs it, against this server. */
const govhost = (...args: string[]) =>
  runCommand(process.execPath, [BIN, ...args], { cwd: work, env: cliEnv, timeoutMs: 60_000 });
async function ok(...args: string[]) {
  const r = await govhost(...args);
  assert.equal(r.code, 0, describeFailure(`govhost ${args.join(' ')}`, r));
  return r.stdout;
}

const served = (host: string) =>
  untilServed(routerUrl, host, (r) => r.status === 200 && /<html/i.test(r.body));
const notServed = (host: string) => untilServed(routerUrl, host, (r) => r.status === 404);

/** An HTTPS request to the router for `host` (SNI and Host), trusting only `ca`. */
function viaHttps(host: string, ca: string, path = '/') {
  return new Promise<{
    status: number;
    body: string;
    headers: Record<string, unknown>;
    cert: X509Certificate;
  }>((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port: httpsPort,
        servername: host,
        path,
        headers: { host },
        ca,
        agent: false,
        timeout: 10_000,
      },
      (res) => {
        const peer = (res.socket as import('node:tls').TLSSocket).getPeerX509Certificate();
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () =>
          peer
            ? resolve({ status: res.statusCode ?? 0, body, headers: res.headers, cert: peer })
            : reject(new Error('no peer certificate')),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** A JSON request to the router's HTTPS listener for `host` (SNI and Host), trusting only `ca`. */
function jsonViaHttps(
  host: string,
  ca: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
) {
  return new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port: httpsPort,
        servername: host,
        method,
        path,
        headers: { host, ...headers, ...(payload ? { 'content-type': 'application/json' } : {}) },
        ca,
        agent: false,
        timeout: 10_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : {} }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(payload);
  });
}

describe('the edge through the router: custom domains, HTTPS, ACME', {
  skip: missing ? `no ${missing}` : false,
}, () => {
  before(async () => {
    // pebble checks HTTP-01 on the router's HTTP port, resolving every name to 127.0.0.1 through
    // pebble-challtestsrv; so the router's ports are chosen before the server starts.
    dns = await startChallTestSrv();
    // The CA finds the platform name on loopback, where the router answers its HTTP-01 challenge
    // (the custom names resolve nowhere: their orders fail and back off, which changes nothing here).
    await dns.addA(PLATFORM_HOST, '127.0.0.1');
    const routerPort = await freePort();
    httpsPort = await freePort();
    pebble = await startPebble({ httpPort: routerPort, dnsPort: dns.dnsPort });
    sandbox = await startSandbox({ port: await freePort() });
    env = cleanEnv({
      GOVHOST_DATA_DIR: join(work, 'data'),
      GOVHOST_DOMAIN: DOMAIN,
      GOVHOST_PORT: '0',
      GOVHOST_ROUTER_PORT: String(routerPort),
      GOVHOST_ROUTER_ADMIN_PORT: '0',
      GOVHOST_ROUTER_HTTPS_PORT: String(httpsPort),
      GOVHOST_ACME_DIRECTORY_URL: pebble.directoryUrl,
      GOVHOST_ACME_CA_FILE: pebble.caFile,
      GOVHOST_ACME_EMAIL: 'ops@edge.test',
      GOVHOST_ACME_ROUND_SECONDS: '1',
      GOVHOST_PAYMENTS_SANDBOX_URL: sandbox.url,
      GOVHOST_PAYMENTS_LIVE_PROVIDER_URL: 'sandbox',
    });
    const s = await startServer(env);
    server = s.proc;
    routerUrl = s.routerUrl as string;
    baseUrl = s.url;
    admin = apiClient(s.url, s.token as string);
    cliEnv = cleanEnv({
      GOVHOST_URL: s.url,
      GOVHOST_TOKEN: s.token as string,
      GOVHOST_CLI_CONFIG: join(work, 'credentials.json'),
    });
    assert.equal(
      (await admin('POST', '/departments', { code: DEPT, nameEn: 'Domains', nameZh: '域名' })).status,
      201,
    );
    await createService(admin, DEPT, 'site');
    // The domain tests below speak plain HTTP: no redirect for this service until the HTTPS tests.
    assert.equal(
      (await admin('PATCH', `/services/${DEPT}/site/https`, { httpsRedirect: false })).status,
      200,
    );
    // The static example with a manifest that asks for a custom host name.
    const dir = mkdtempSync(join(work, 'site-'));
    cpSync(join(EXAMPLES, 'static-site'), dir, { recursive: true });
    writeFileSync(
      join(dir, 'manifest.yml'),
      `applications:\n- name: site\n  routes:\n  - route: ${CUSTOM}\n`,
    );
    const { upload, deployment } = await deployDir(s.url, admin, s.token as string, `${DEPT}/site`, dir);
    assert.equal(deployment.state, 'succeeded', JSON.stringify(deployment));
    assert.ok(
      upload.warnings.includes(
        `routes: ${CUSTOM} is claimed for this service; it is routed once an operator approves it`,
      ),
      JSON.stringify(upload.warnings),
    );
    await served(PLATFORM_HOST);
  });
  after(async () => {
    closeAgent();
    if (server) await stopProcess(server);
    await pebble?.close();
    await dns?.close();
    await sandbox?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('does not route a pending name; routes it once approved, beside the platform name', async () => {
    const claims = await admin('GET', `/services/${DEPT}/site/domains`);
    assert.deepEqual(
      claims.json.map((d: { hostname: string; state: string; source: string }) => [
        d.hostname,
        d.state,
        d.source,
      ]),
      [[CUSTOM, 'pending', 'manifest']],
    );
    assert.equal((await viaRouter(routerUrl, CUSTOM)).status, 404);
    assert.equal((await admin('POST', `/domains/${CUSTOM}/approve`)).status, 200);
    const page = await served(CUSTOM);
    assert.equal(page.body, (await viaRouter(routerUrl, PLATFORM_HOST)).body);
  });

  it('never routes a rejected name, and stops routing one rejected after approval', async () => {
    assert.equal((await admin('POST', `/services/${DEPT}/site/domains`, { hostname: SECOND })).status, 201);
    assert.equal((await admin('POST', `/domains/${SECOND}/reject`, { reason: 'not ours' })).status, 200);
    assert.equal((await viaRouter(routerUrl, SECOND)).status, 404);
    await served(CUSTOM);
    assert.equal((await admin('POST', `/domains/${CUSTOM}/reject`, { reason: 'moved' })).status, 200);
    await notServed(CUSTOM);
    await served(PLATFORM_HOST);
  });

  it('keeps routing an approved name after a restart; stops routing it once removed', async () => {
    assert.equal((await admin('POST', `/domains/${CUSTOM}/approve`)).status, 200);
    await served(CUSTOM);
    // The restarted runtime reads the approved names from the store again (reconcile, and the work
    // queue's first poll): without that, its tables replace the router's copy and the name is gone.
    const api = new URL(baseUrl);
    await stopProcess(server);
    const again = await startServer({
      ...env,
      GOVHOST_PORT: api.port,
      GOVHOST_ROUTER_PORT: new URL(routerUrl).port,
    });
    server = again.proc;
    await served(CUSTOM);
    assert.equal((await viaRouter(routerUrl, SECOND)).status, 404);
    assert.equal((await admin('DELETE', `/services/${DEPT}/site/domains/${CUSTOM}`)).status, 204);
    await notServed(CUSTOM);
    assert.equal((await viaRouter(routerUrl, SECOND)).status, 404);
  });

  it('works from the CLI: add, list, approve, reject, remove; a refused name is one line', async () => {
    const name = 'cli.dom.gov.example';
    assert.match(
      await ok('domains', 'add', `${DEPT}/site`, name),
      /cli\.dom\.gov\.example is claimed for DOM\/site/,
    );
    assert.match(await ok('domains', 'list', `${DEPT}/site`), /cli\.dom\.gov\.example\s+pending/);
    assert.match(
      await ok('domains', 'list', '--state', 'pending'),
      /cli\.dom\.gov\.example\s+DOM\/site\s+pending/,
    );
    assert.match(
      await ok('domains', 'approve', name),
      /Approved cli\.dom\.gov\.example: routed to DOM\/site/,
    );
    await served(name);
    assert.match(
      await ok('domains', 'reject', name, '--reason', 'wrong name'),
      /Rejected cli\.dom\.gov\.example/,
    );
    assert.match(await ok('domains', 'list', `${DEPT}/site`), /rejected: wrong name/);
    await notServed(name);
    assert.match(
      await ok('domains', 'remove', `${DEPT}/site`, name),
      /Removed cli\.dom\.gov\.example from DOM\/site/,
    );
    const refused = await govhost('domains', 'add', `${DEPT}/site`, 'app.localhost');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /^govhost: [^\n]*app\.localhost is a loopback name[^\n]*\n$/);
  });

  it('issues the platform name a certificate through ACME; the router serves it over HTTPS with HSTS', async () => {
    const root = await pebble.root();
    let orders: { hostname: string; state: string }[] = [];
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
      orders = (await admin('GET', '/acme/orders')).json.items;
      if (orders.some((o) => o.hostname === PLATFORM_HOST && o.state === 'valid')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(
      orders.some((o) => o.hostname === PLATFORM_HOST && o.state === 'valid'),
      `no valid ACME order for ${PLATFORM_HOST}: ${JSON.stringify(orders)}`,
    );
    // The certificate is in the store, from ACME, and the router picks it by SNI (trusting only
    // pebble's root: the chain it sends verifies).
    const stored = (await admin('GET', '/certificates')).json.items as { names: string[]; source: string }[];
    assert.ok(
      stored.some((c) => c.source === 'acme' && c.names.includes(PLATFORM_HOST)),
      JSON.stringify(stored),
    );
    let page: Awaited<ReturnType<typeof viaHttps>> | null = null;
    for (const deadline = Date.now() + 20_000; !page && Date.now() < deadline; )
      page = await viaHttps(PLATFORM_HOST, root).catch(() => null);
    assert.ok(page, `no HTTPS answer for ${PLATFORM_HOST}`);
    assert.equal(page.status, 200);
    assert.match(page.body, /<html/i);
    assert.equal(page.cert.checkHost(PLATFORM_HOST), PLATFORM_HOST);
    assert.match(String(page.headers['strict-transport-security']), /max-age=31536000/);
  });

  it('redirects plain HTTP to HTTPS once the service asks for it (the default), keeping path and query', async () => {
    assert.equal((await admin('PATCH', `/services/${DEPT}/site/https`, { httpsRedirect: true })).status, 200);
    const moved = await untilServed(routerUrl, PLATFORM_HOST, (r) => r.status === 301, 20_000, '/a/b?c=1');
    assert.equal(
      (await viaRouter(routerUrl, PLATFORM_HOST, '/a/b?c=1')).headers.location,
      `https://${PLATFORM_HOST}:${httpsPort}/a/b?c=1`,
    );
    assert.equal(moved.status, 301);
  });

  it('serves an uploaded wildcard by SNI for a custom name, and ACME leaves its hosts alone', async () => {
    const ca = new TestCa();
    try {
      // 90 days: beyond ACME's renewal window, so the job does not order for the names it covers.
      const pem = ca.issue(['*.dom.gov.example'], 90);
      writeFileSync(join(work, 'wild.pem'), pem.chain);
      writeFileSync(join(work, 'wild.key'), pem.key, { mode: 0o600 });
      assert.match(
        await ok('certs', 'add', '--cert', join(work, 'wild.pem'), '--key', join(work, 'wild.key')),
        /\*\.dom\.gov\.example/,
      );
      assert.equal(
        (await admin('POST', `/services/${DEPT}/site/domains`, { hostname: WILDCARD_HOST })).status,
        201,
      );
      assert.equal((await admin('POST', `/domains/${WILDCARD_HOST}/approve`)).status, 200);
      let page: Awaited<ReturnType<typeof viaHttps>> | null = null;
      for (const deadline = Date.now() + 20_000; !page && Date.now() < deadline; )
        page = await viaHttps(WILDCARD_HOST, ca.root).catch(() => null);
      assert.ok(page, `no HTTPS answer for ${WILDCARD_HOST}`);
      assert.equal(page.status, 200);
      assert.equal(page.cert.fingerprint256, new X509Certificate(pem.chain).fingerprint256);
      // A name nothing covers completes no handshake: no other certificate is shown instead.
      await assert.rejects(viaHttps('nobody.gov.example', ca.root));
      // (That ACME leaves the wildcard's hosts alone is shown in src/edge/certificates.test.ts.)
    } finally {
      ca.close();
    }
  });

  it("takes live payment keys over the router's HTTPS only; never straight to the platform", async () => {
    const ca = new TestCa();
    const payHost = `pay.${DOMAIN}`;
    try {
      const pem = ca.issue([payHost], 90);
      writeFileSync(join(work, 'pay.pem'), pem.chain);
      writeFileSync(join(work, 'pay.key'), pem.key, { mode: 0o600 });
      await ok('certs', 'add', '--cert', join(work, 'pay.pem'), '--key', join(work, 'pay.key'));
      // The router serves HTTPS, a live provider is configured: a developer may make a live key.
      assert.equal(
        (
          await admin('POST', '/users', {
            username: 'paydev',
            displayName: 'Pay',
            role: 'dept-developer',
            department: DEPT,
          })
        ).status,
        201,
      );
      const dev = apiClient(
        baseUrl,
        (await admin('POST', '/tokens', { name: 'k', user: 'paydev', scope: 'write' })).json.secret,
      );
      const made = await dev('POST', `/services/${DEPT}/site/payment-keys`, { name: 'live', mode: 'live' });
      assert.equal(made.status, 201, JSON.stringify(made.json));
      const auth = { authorization: `Bearer ${made.json.secret}` };
      // The service redirects plain HTTP to HTTPS and ACME gave its name a certificate: an http
      // webhook URL would never arrive, so it is refused; an https one goes to the router's TLS
      // listener, pinned to the certificate in the store (decision 051).
      const hookPath = `/services/${DEPT}/site/payment-webhook`;
      const httpHook = await dev('PUT', hookPath, { url: `http://${PLATFORM_HOST}/hooks` });
      assert.equal(httpHook.status, 422, JSON.stringify(httpHook.json));
      assert.match(httpHook.json.detail, new RegExp(`use https://${PLATFORM_HOST}/hooks`));
      assert.equal((await dev('PUT', hookPath, { url: `https://${PLATFORM_HOST}/hooks` })).status, 200);
      const payment = (n: number) => ({
        amount: 5000,
        reference: `LIVE-${n}`,
        description: 'Licence',
        returnUrl: `https://${PLATFORM_HOST}/done`,
      });
      let created: Awaited<ReturnType<typeof jsonViaHttps>> | null = null;
      for (const deadline = Date.now() + 20_000; !created && Date.now() < deadline; )
        created = await jsonViaHttps(
          payHost,
          ca.root,
          'POST',
          '/api/v1/payments',
          { ...auth, host: `${payHost}:${httpsPort}`, 'idempotency-key': 'l-1' },
          payment(1),
        ).catch(() => null);
      assert.ok(created, `no HTTPS answer for ${payHost}`);
      assert.equal(created.status, 201, JSON.stringify(created.json));
      assert.equal(created.json.mode, 'live');
      assert.equal(created.json.nextUrl, `https://${payHost}:${httpsPort}/pay/${created.json.id}`);
      // The citizen goes on to the live provider (the sandbox here) from the page over HTTPS, pays,
      // and the service reads `success` over HTTPS.
      const redirect = await new Promise<string>((resolve, reject) => {
        const req = httpsRequest(
          {
            host: '127.0.0.1',
            port: httpsPort,
            servername: payHost,
            method: 'POST',
            path: `/pay/${created.json.id}/continue`,
            headers: { host: `${payHost}:${httpsPort}` },
            ca: ca.root,
            agent: false,
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(String(res.headers.location)));
          },
        );
        req.on('error', reject);
        req.end();
      });
      assert.ok(redirect.startsWith(sandbox.url), redirect);
      // Its `payment.started` webhook reached the service over HTTPS: the static site answers a
      // POST with 405 (over plain HTTP the router would have answered 308).
      await server.waitFor(
        (out) => out.includes(`HTTP 405 from https://${PLATFORM_HOST}/hooks over HTTPS through the router`),
        'the webhook delivered through the router over HTTPS',
        20_000,
      );
      assert.equal((await payOnCardPage(redirect, '4242424242424242')).status, 303);
      // Straight to the platform's port, even with the router's headers forged: refused.
      const direct = await fetch(`${baseUrl}/api/v1/payments`, {
        method: 'POST',
        headers: {
          ...auth,
          'idempotency-key': 'l-2',
          'content-type': 'application/json',
          'x-forwarded-proto': 'https',
          'x-govhost-router-key': 'forged',
        },
        body: JSON.stringify(payment(2)),
      });
      assert.equal(direct.status, 403);
      assert.equal(((await direct.json()) as { code: string }).code, 'GOVHOST_PAYMENT_LIVE_UNAVAILABLE');
      // Over the router's plain HTTP the payment host (now with a certificate) redirects to HTTPS.
      const plain = await viaRouter(routerUrl, payHost, '/api/v1/payments');
      assert.equal(plain.status, 301);
    } finally {
      ca.close();
    }
  });
});
