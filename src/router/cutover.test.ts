// A route's cut-over between a new release and a legacy upstream (decision 035): a real router,
// a real "new" backend and real legacy servers (plain HTTP, and HTTPS under a test CA) on loopback.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { legacyLabel } from './cutover.ts';
import type { RawServiceMetrics } from './metrics.ts';
import type { Cutover, Route } from './route-table.ts';
import { parseRouteTable } from './route-validate.ts';
import type { RunningRouter } from './router.ts';
import { admin, ask, putRoutes, startBackend, startTestRouter, type TestBackend } from './testing.ts';
import { NO_OPENSSL, TestCa } from './tls-testing.ts';

const HOST = 'etax.ird.localhost';
const SERVICE = 'IRD/etax';

const route = (backend: TestBackend, cutover?: Cutover): Route => ({
  hostname: HOST,
  service: SERVICE,
  kind: 'proxy',
  backends: [{ id: 'new-1', url: backend.url }],
  ...(cutover ? { cutover } : {}),
});

/** Sends `n` requests one after another; returns how many the new release answered. */
async function share(port: number, n: number, path = '/form'): Promise<number> {
  let fresh = 0;
  for (let i = 0; i < n; i++) {
    const r = await ask(port, { host: HOST, path });
    assert.equal(r.status, 200, r.body);
    if (JSON.parse(r.body).id === 'new') fresh++;
  }
  return fresh;
}

describe('cut-over validation', () => {
  const table = (cutover: unknown) => ({
    version: 1,
    routes: [{ hostname: HOST, service: SERVICE, kind: 'proxy', backends: [], cutover }],
  });
  it('takes a full cut-over and reads it back as sent', () => {
    const cutover = {
      legacyUrl: 'https://egis.gov.hk:8443',
      legacyHost: 'etax.egis.gov.hk',
      percent: 10,
      newPaths: ['/forms', '/api/v2/'],
      sticky: true,
    };
    const r = parseRouteTable(table(cutover));
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.table.routes[0]?.cutover, cutover);
  });
  it('names every wrong field', () => {
    const r = parseRouteTable(
      table({
        legacyUrl: 'ftp://egis/x',
        legacyHost: 'a b',
        legacyCa: 'not pem',
        percent: 10.5,
        newPaths: ['forms', '/a?b'],
        sticky: 'yes',
        weight: 3,
      }),
    );
    assert.ok(!r.ok);
    const text = r.errors.join('\n');
    for (const part of [
      'routes[0].cutover: unknown field "weight"',
      'routes[0].cutover.legacyUrl: must be http(s)://host[:port]',
      'routes[0].cutover.legacyHost',
      'routes[0].cutover.legacyCa: must be PEM',
      'routes[0].cutover.percent: must be a whole number from 0 to 100, got 10.5',
      'routes[0].cutover.newPaths[0]',
      'routes[0].cutover.newPaths[1]',
      'routes[0].cutover.sticky: must be true or false',
    ]) {
      assert.ok(text.includes(part), `${part} in:\n${text}`);
    }
  });
  it('refuses a path, credentials or a port out of range in the legacy URL, and a CA for plain HTTP', () => {
    for (const legacyUrl of [
      'http://egis:80/app',
      'http://user:pw@egis:80',
      'http://egis:70000',
      'http://egis:80?x',
      'egis:80',
    ]) {
      const r = parseRouteTable(table({ legacyUrl, percent: 0 }));
      assert.ok(!r.ok, legacyUrl);
    }
    const ca = parseRouteTable(
      table({ legacyUrl: 'http://egis', percent: 0, legacyCa: '-----BEGIN CERTIFICATE-----\nx\n' }),
    );
    assert.ok(!ca.ok && ca.errors.some((e) => e.includes('only an https legacyUrl')), JSON.stringify(ca));
    for (const percent of [-1, 101, '10', null])
      assert.ok(!parseRouteTable(table({ legacyUrl: 'http://egis', percent })).ok);
  });
});

describe('cut-over in the router', () => {
  let router: RunningRouter;
  let fresh: TestBackend;
  let legacy: TestBackend;

  before(async () => {
    [fresh, legacy] = await Promise.all([startBackend('new'), startBackend('legacy')]);
    // Loopback is a trusted proxy here, so the sticky test can speak for many clients.
    router = await startTestRouter({ trustedProxies: ['127.0.0.1/32'] });
  });
  after(async () => {
    await router?.close(0);
    await Promise.all([fresh?.close(), legacy?.close()]);
  });

  it('sends 10 %, 50 % and 100 % to the new release, measured over 400 requests, and back to 0 % at once', async () => {
    for (const percent of [10, 50, 100]) {
      const put = await putRoutes(router, [route(fresh, { legacyUrl: legacy.url, percent })]);
      assert.equal(put.status, 200, JSON.stringify(put.body));
      const got = (100 * (await share(router.port, 400))) / 400;
      assert.ok(Math.abs(got - percent) <= 5, `${got} % new for ${percent} %`);
    }
    await putRoutes(router, [route(fresh, { legacyUrl: legacy.url, percent: 0 })]);
    assert.equal(await share(router.port, 50), 0, 'fallback sends everything to legacy');
  });

  it('serves moved path prefixes from the new release whatever the share, segment by segment', async () => {
    await putRoutes(router, [route(fresh, { legacyUrl: legacy.url, percent: 0, newPaths: ['/forms'] })]);
    assert.equal(await share(router.port, 20, '/forms'), 20);
    assert.equal(await share(router.port, 20, '/forms/tax?year=2026'), 20);
    assert.equal(await share(router.port, 20, '/forms?x=1'), 20);
    assert.equal(await share(router.port, 20, '/formsx'), 0);
    assert.equal(await share(router.port, 20, '/'), 0);
  });

  it('keeps each client on one side when sticky, and raising the share only moves clients to new', async () => {
    const sides = async (percent: number) => {
      await putRoutes(router, [route(fresh, { legacyUrl: legacy.url, percent, sticky: true })]);
      const out = new Map<string, string>();
      for (let c = 0; c < 200; c++) {
        const client = `10.1.${c >> 8}.${c & 255}`;
        const seen = new Set<string>();
        for (let k = 0; k < 3; k++) {
          const r = await ask(router.port, { host: HOST, path: '/', headers: { 'x-forwarded-for': client } });
          seen.add(JSON.parse(r.body).id);
        }
        assert.equal(seen.size, 1, `client ${client} saw ${[...seen]}`);
        out.set(client, [...seen][0]!);
      }
      return out;
    };
    const at20 = await sides(20);
    const at60 = await sides(60);
    const newAt20 = [...at20.values()].filter((s) => s === 'new').length;
    const newAt60 = [...at60.values()].filter((s) => s === 'new').length;
    // A hash of 200 addresses: near the share, not exact.
    assert.ok(newAt20 > 20 && newAt20 < 60, `${newAt20} of 200 clients new at 20 %`);
    assert.ok(newAt60 > 100 && newAt60 < 140, `${newAt60} of 200 clients new at 60 %`);
    for (const [client, side] of at20) if (side === 'new') assert.equal(at60.get(client), 'new', client);
  });

  it('sends the configured Host to the legacy upstream and the citizen host as X-Forwarded-Host', async () => {
    await putRoutes(router, [
      route(fresh, { legacyUrl: legacy.url, percent: 0, legacyHost: 'etax.egis.gov.hk:8080' }),
    ]);
    const seen = JSON.parse((await ask(router.port, { host: HOST, path: '/x' })).body);
    assert.equal(seen.id, 'legacy');
    assert.equal(seen.headers.host, 'etax.egis.gov.hk:8080');
    assert.equal(seen.headers['x-forwarded-host'], HOST);
    await putRoutes(router, [route(fresh, { legacyUrl: legacy.url, percent: 0 })]);
    assert.equal(JSON.parse((await ask(router.port, { host: HOST })).body).headers.host, HOST);
  });

  it('counts each side under its own label: the service for new, "(legacy)" for legacy', async () => {
    await putRoutes(router, [route(fresh, { legacyUrl: legacy.url, percent: 50 })]);
    const raw = async () =>
      (await admin(router, 'GET', '/metrics?raw=1')).body.services as Record<string, RawServiceMetrics>;
    const total = (m?: RawServiceMetrics) => (m ? m.classes.reduce((a, b) => a + b, 0) : 0);
    const before = await raw();
    await share(router.port, 40);
    const now = await raw();
    assert.equal(total(now[SERVICE]) - total(before[SERVICE]), 20);
    assert.equal(total(now[legacyLabel(SERVICE)]) - total(before[legacyLabel(SERVICE)]), 20);
  });

  it('answers 502 when the legacy upstream is down, and a route without cut-over is untouched', async () => {
    await putRoutes(router, [route(fresh, { legacyUrl: 'http://127.0.0.1:1', percent: 0 })]);
    assert.equal((await ask(router.port, { host: HOST })).status, 502);
    await putRoutes(router, [route(fresh)]);
    assert.equal(await share(router.port, 10), 10);
  });
});

describe('cut-over to an HTTPS legacy upstream', { skip: NO_OPENSSL }, () => {
  let router: RunningRouter;
  let fresh: TestBackend;
  let ca: TestCa;
  let server: HttpsServer;
  let legacyUrl: string;

  before(async () => {
    ca = new TestCa();
    const pem = ca.issue(['localhost']);
    server = createHttpsServer({ cert: pem.chain, key: pem.key }, (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'legacy-tls', host: req.headers.host }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    legacyUrl = `https://localhost:${(server.address() as AddressInfo).port}`;
    [fresh, router] = await Promise.all([startBackend('new'), startTestRouter()]);
  });
  after(async () => {
    await router?.close(0);
    await fresh?.close();
    server?.close();
    ca?.close();
  });

  it('connects over TLS verifying the certificate against the configured CA', async () => {
    await putRoutes(router, [
      route(fresh, { legacyUrl, legacyCa: ca.root, percent: 0, legacyHost: 'old.egis' }),
    ]);
    for (let i = 0; i < 3; i++) {
      const r = await ask(router.port, { host: HOST });
      assert.equal(r.status, 200, r.body);
      assert.deepEqual(JSON.parse(r.body), { id: 'legacy-tls', host: 'old.egis' });
    }
  });

  it('refuses a certificate it cannot verify: 502, never the unverified answer', async () => {
    await putRoutes(router, [route(fresh, { legacyUrl, percent: 0 })]);
    assert.equal((await ask(router.port, { host: HOST })).status, 502);
  });
});
