// test-seconds: 38
// Cut-over in the router end to end (issue 16, decision 035): the real server with its runtime and
// router, a legacy service (a plain HTTP server this test starts on loopback) and a new release
// deployed in front of it. Shifts of 10, 50 and 100 % measured over 400 requests each; the instant
// fallback; path prefixes; sticky clients; the allow-list; operators only; legacy and new compared;
// the automatic fallback when the new release fails; and the migration item carried through to
// decommissioned, the legacy service no longer fronted.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  cleanEnv,
  type GovhostProcess,
  runCli,
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

const HELLO = fileURLToPath(new URL('../../examples/apps/node-hello', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'govhost-cutover-e2e-'));
const DEPT = 'MIG';
const SVC = `${DEPT}/etax`;
const HOST = 'etax.mig.localhost';

// The new release: says which side it is, and fails on /fail (for the automatic fallback).
const NEW_APP = `import { createServer } from 'node:http';
createServer((req, res) => {
  if (req.url === '/fail') { res.writeHead(500).end('broken'); return; }
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ side: 'new', host: req.headers.host }));
}).listen(Number(process.env.PORT));
`;

let server: GovhostProcess;
let url: string;
let token: string;
let routerUrl: string;
let admin: Api;
let legacy: Server;
let legacyUrl: string;
/** Requests the legacy service has answered. */
let legacyHits = 0;
const agent = new Agent({ keepAlive: true, maxSockets: 4 });

/** Which side answered `path` (for `client`, as a load balancer's X-Forwarded-For says). */
function sideOf(path = '/', client?: string): Promise<string> {
  const u = new URL(routerUrl);
  const headers: Record<string, string> = { host: HOST, ...(client ? { 'x-forwarded-for': client } : {}) };
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, headers, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`${res.statusCode} for ${path}: ${body}`));
        else resolve(JSON.parse(body).side);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Share of `n` requests the new release answered, in percent. */
async function newShare(n: number, path = '/'): Promise<number> {
  let fresh = 0;
  for (let i = 0; i < n; i++) if ((await sideOf(path)) === 'new') fresh++;
  return (100 * fresh) / n;
}

const cli = (...args: string[]) => runCli(url, token, args);
async function ok(...args: string[]) {
  const r = await cli(...args);
  assert.equal(r.code, 0, `govhost ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('cut-over from a legacy service through the router', () => {
  before(async () => {
    legacy = createServer((req, res) => {
      legacyHits++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ side: 'legacy', host: req.headers.host }));
    });
    legacy.listen(0, '127.0.0.1');
    await once(legacy, 'listening');
    legacyUrl = `http://127.0.0.1:${(legacy.address() as AddressInfo).port}`;
    const s = await startServer(
      cleanEnv({
        GOVHOST_DATA_DIR: join(work, 'data'),
        GOVHOST_PORT: '0',
        GOVHOST_ROUTER_PORT: '0',
        GOVHOST_ROUTER_ADMIN_PORT: '0',
        GOVHOST_LEGACY_ALLOW: '127.0.0.1',
        // Loopback speaks for many clients in the sticky test.
        GOVHOST_ROUTER_TRUSTED_PROXIES: '127.0.0.1',
        // The watch samples the router this often: the automatic fallback within seconds.
        GOVHOST_PROBE_INTERVAL_MS: '300',
      }),
    );
    server = s.proc;
    [url, token, routerUrl] = [s.url, s.token as string, s.routerUrl as string];
    admin = apiClient(url, token);
    assert.equal(
      (await admin('POST', '/departments', { code: DEPT, nameEn: 'Migration', nameZh: '遷移' })).status,
      201,
    );
    await createService(admin, DEPT, 'etax');
    const dir = mkdtempSync(join(work, 'app-'));
    cpSync(HELLO, dir, { recursive: true });
    writeFileSync(join(dir, 'server.js'), NEW_APP);
    const { deployment } = await deployDir(url, admin, token, SVC, dir);
    assert.equal(deployment.state, 'succeeded', JSON.stringify(deployment));
    await untilServed(routerUrl, HOST, (r) => r.status === 200 && r.body.includes('"new"'));
  });
  after(async () => {
    closeAgent();
    agent.destroy();
    if (server) await stopProcess(server);
    legacy?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('fronts the legacy service at 0 %: every request goes to legacy, with the configured Host', async () => {
    const out = await ok(
      'migration',
      'front',
      SVC,
      '--legacy',
      legacyUrl,
      '--host',
      'etax.egis.gov.hk',
      '--to',
      '0%',
    );
    assert.match(out, /legacy:\s+100 % to http:\/\/127\.0\.0\.1/);
    for (let i = 0; i < 20; i++) {
      const r = await viaRouter(routerUrl, HOST);
      assert.deepEqual(JSON.parse(r.body), { side: 'legacy', host: 'etax.egis.gov.hk' });
    }
  });

  it('shifts 10 %, 50 % and 100 % to the new release, each within 5 points over 400 requests', async (t) => {
    for (const percent of [10, 50, 100]) {
      const out = await ok('migration', 'shift', SVC, '--to', `${percent}%`);
      assert.equal(out, `${SVC}: ${percent} % to the new release, ${100 - percent} % to legacy.\n`);
      const got = await newShare(400);
      t.diagnostic(`shifted to ${percent} %: ${got} % of 400 requests went to the new release`);
      assert.ok(Math.abs(got - percent) <= 5, `${got} % new after shifting to ${percent} %`);
    }
  });

  it('falls back at once: the next request after `migration back` goes to legacy', async () => {
    assert.equal(await newShare(20), 100);
    const out = await ok('migration', 'back', SVC);
    assert.match(out, /every request goes to the legacy service/);
    assert.equal(await newShare(100), 0);
  });

  it('serves moved path prefixes from the new release, the rest by the share', async () => {
    const put = await admin('PUT', `/services/${SVC}/cutover`, {
      legacyUrl,
      percent: 0,
      newPaths: ['/forms'],
    });
    assert.equal(put.status, 200, JSON.stringify(put.json));
    assert.equal(await newShare(20, '/forms/tax-return'), 100);
    assert.equal(await newShare(20, '/enquiry'), 0);
  });

  it('keeps each client on its side when sticky', async () => {
    const put = await admin('PUT', `/services/${SVC}/cutover`, { legacyUrl, percent: 50, sticky: true });
    assert.equal(put.status, 200, JSON.stringify(put.json));
    const sides = new Set<string>();
    for (let c = 0; c < 40; c++) {
      const client = `10.20.0.${c + 1}`;
      const first = await sideOf('/', client);
      for (let k = 0; k < 3; k++) assert.equal(await sideOf('/', client), first, client);
      sides.add(first);
    }
    assert.deepEqual([...sides].sort(), ['legacy', 'new'], 'forty clients land on both sides');
  });

  it('shows legacy and new side by side from the router’s metrics', async () => {
    // Not sticky: this test's requests all come from one client.
    const put = await admin('PUT', `/services/${SVC}/cutover`, { legacyUrl, percent: 50 });
    assert.equal(put.status, 200, JSON.stringify(put.json));
    await newShare(100);
    let compared: { new: { requests: number }; legacy: { requests: number }; percent: number } | null = null;
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; ) {
      const r = await cli('--json', 'migration', 'compare', SVC);
      assert.equal(r.code, 0, r.stderr);
      compared = JSON.parse(r.stdout);
      if (compared && compared.new.requests + compared.legacy.requests >= 100) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(compared, 'a comparison');
    assert.equal(compared.percent, 50);
    assert.ok(compared.new.requests >= 30 && compared.legacy.requests >= 30, JSON.stringify(compared));
    const table = await ok('migration', 'compare', SVC);
    assert.match(table, /^new\s+\d+/m);
    assert.match(table, /^legacy\s+\d+/m);
  });

  it('refuses an upstream the allow-list does not name with a 4xx, and a department user', async () => {
    const refused = await cli('migration', 'front', SVC, '--legacy', 'http://127.0.0.2:8080');
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /GOVHOST_LEGACY_ALLOW.*\(GOVHOST_LEGACY_FORBIDDEN\)$/m);
    const api = await admin('PUT', `/services/${SVC}/cutover`, { legacyUrl: 'http://10.1.2.3' });
    assert.equal(api.status, 422);
    const dev = { username: 'mig-dev', displayName: 'Dev', role: 'dept-admin', department: DEPT };
    assert.equal((await admin('POST', '/users', dev)).status, 201);
    const tok = await admin('POST', '/tokens', { name: 't', user: 'mig-dev' });
    assert.equal(tok.status, 201, JSON.stringify(tok.json));
    const asDev = await runCli(url, tok.json.secret, ['migration', 'shift', SVC, '--to', '100%']);
    assert.equal(asDev.code, 1, asDev.stderr);
    assert.match(asDev.stderr, /may not migration cutover/);
    // A department user still reads its service's cut-over.
    const read = await runCli(url, tok.json.secret, ['migration', 'cutover', SVC]);
    assert.equal(read.code, 0, read.stderr);
    assert.match(read.stdout, /new release:\s+50 %/);
  });

  it('sends everything back to legacy by itself once the new release fails above the rule', async () => {
    const put = await admin('PUT', `/services/${SVC}/cutover`, {
      legacyUrl,
      percent: 100,
      fallbackErrorRate: 20,
    });
    assert.equal(put.status, 200, JSON.stringify(put.json));
    for (let i = 0; i < 30; i++) assert.equal((await viaRouter(routerUrl, HOST, '/fail')).status, 500);
    let percent = 100;
    for (const deadline = Date.now() + 20_000; Date.now() < deadline && percent !== 0; ) {
      percent = (await admin('GET', `/services/${SVC}/cutover`)).json.percent;
      if (percent !== 0) await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(percent, 0, 'the fallback rule shifted everything back');
    // The store says 0 % before the router has the new table (the push follows the write): wait,
    // bounded, for the first legacy answer, then every request must be legacy.
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; )
      if ((await sideOf()) === 'legacy') break;
    assert.equal(await newShare(20), 0);
    const audit = await admin('GET', '/audit?limit=5');
    const back = audit.json.items.find((a: { action: string }) => a.action === 'cutover.back');
    assert.ok(back, JSON.stringify(audit.json.items.map((a: { action: string }) => a.action)));
    assert.match(back.actor, /govhost fallback: .*answered 5xx/);
  });

  it('carries the migration item through to decommissioned; unfronted, the legacy service gets nothing', async () => {
    const wave = await admin('PUT', '/migration/waves/1', {
      name: 'Revenue services',
      plannedStart: '2026-12-01',
      plannedEnd: '2027-03-31',
    });
    assert.ok([200, 201].includes(wave.status), JSON.stringify(wave.json));
    const created = await admin('POST', '/migration/items', {
      department: DEPT,
      ref: 'ETAX-LEGACY',
      name: 'eTAX on the old platform',
      sourcePlatform: 'EGIS',
      legacyUrl,
      complexity: 'low',
      targetService: 'etax',
      wave: 1,
      plannedOn: '2027-01-15',
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    // The item's steps through the API (the CLI's `migration move` has its own suite).
    const move = async (to: string) => {
      const r = await admin('POST', `/migration/items/${DEPT}/ETAX-LEGACY/move`, { to });
      assert.equal(r.status, 200, JSON.stringify(r.json));
    };
    for (const state of ['assessed', 'scheduled', 'migrating', 'parallel-run']) await move(state);
    // Cut over: every request to the new release, then the item says so.
    await ok('migration', 'shift', SVC, '--to', '100%');
    assert.equal(await newShare(20), 100);
    await move('cut-over');
    // Decommissioned: the router no longer fronts the legacy service at all.
    assert.match(await ok('migration', 'unfront', SVC), /no longer fronts a legacy service/);
    await move('decommissioned');
    const before = legacyHits;
    assert.equal(await newShare(50), 100);
    assert.equal(legacyHits, before, 'no request reached the legacy service');
    assert.equal((await admin('GET', `/services/${SVC}/cutover`)).status, 404);
    const shown = await admin('GET', `/migration/items/${DEPT}/ETAX-LEGACY`);
    assert.equal(shown.json.state, 'decommissioned');
    assert.deepEqual(shown.json.nextStates, []);
  });
});
