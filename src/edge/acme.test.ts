import assert from 'node:assert/strict';
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Db } from '../platform/database.ts';
import { SecretBox } from '../platform/secrets.ts';
import { CHALLTESTSRV, startChallTestSrv } from '../test-support/challtestsrv.ts';
import { testDatabase } from '../test-support/database.ts';
import { freePort } from '../test-support/free-port.ts';
import { PEBBLE, type RunningPebble, startPebble } from '../test-support/pebble.ts';
import { acmeClient } from './acme.client.ts';
import { type AcmeJobDeps, type AcmeJobSettings, pendingAcmeChallenges, runAcmeRound } from './acme.job.ts';
import * as repo from './acme.repository.ts';

const DAY_MS = 86_400_000;
const missing = [PEBBLE, CHALLTESTSRV, '/usr/bin/openssl'].find((p) => !existsSync(p));

/** The certificates the job handed over, as the certificate store would receive them. */
interface Saved {
  hostname: string;
  chainPem: string;
  keyPem: string;
  source: 'acme';
}

/** PEM blocks of a chain, leaf first. */
const certsOf = (chainPem: string) =>
  (chainPem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []).map(
    (pem) => new X509Certificate(pem),
  );

describe('ACME issuance and renewal against pebble', { skip: missing ? `no ${missing}` : false }, () => {
  let store: Awaited<ReturnType<typeof testDatabase>>;
  let db: Db;
  let dns: Awaited<ReturnType<typeof startChallTestSrv>>;
  let pebble: RunningPebble;
  let router: Server;
  /** Hosts the stand-in router does not answer challenges for: their validation fails. */
  const silent = new Set<string>();
  const box = new SecretBox(randomBytes(32));
  const saved: Saved[] = [];
  const alerts: { kind: 'failed' | 'expiring' | 'healthy'; hostname: string; message: string }[] = [];
  let publications = 0;
  let settings: AcmeJobSettings;

  const deps = (hosts: string[], over: Partial<AcmeJobDeps> = {}): AcmeJobDeps => ({
    db,
    box,
    settings,
    hosts: async () => hosts,
    sink: { save: async (c) => void saved.push(c) },
    alerts: {
      failed: async (hostname, message) => void alerts.push({ kind: 'failed', hostname, message }),
      expiring: async (hostname, _notAfter, message) =>
        void alerts.push({ kind: 'expiring', hostname, message }),
      healthy: async (hostname) => void alerts.push({ kind: 'healthy', hostname, message: '' }),
    },
    challengesChanged: async () => {
      publications += 1;
    },
    ...over,
  });

  before(async () => {
    store = await testDatabase();
    db = store.db;
    dns = await startChallTestSrv();
    // The router's part: answer /.well-known/acme-challenge/<token> from the published challenges.
    router = createServer(async (req, res) => {
      const host = (req.headers.host ?? '').replace(/:\d+$/, '');
      const token = req.url?.match(/^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]+)$/)?.[1];
      const found = (await pendingAcmeChallenges(db)).find((c) => c.token === token);
      if (!found || silent.has(host)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end(found.keyAuthorization);
    });
    const httpPort = await freePort();
    router.listen(httpPort, '127.0.0.1');
    await once(router, 'listening');
    pebble = await startPebble({ httpPort, dnsPort: dns.dnsPort });
    settings = {
      directoryUrl: pebble.directoryUrl,
      email: 'ops@example.gov',
      caFile: pebble.caFile,
      pollMinMs: 50,
      pollMaxMs: 500,
      renewBeforeDays: 30,
      alertBeforeDays: 14,
      backoffMs: 60_000,
      backoffMaxMs: 3_600_000,
    };
  });

  after(async () => {
    router?.close();
    await pebble?.close();
    await dns?.close();
    await store?.close();
  });

  it('two replicas starting at once end up with one account, its key sealed', async () => {
    const [a, b] = await Promise.all([acmeClient(db, box, settings), acmeClient(db, box, settings)]);
    assert.equal(a.getAccountUrl(), b.getAccountUrl());
    const row = await repo.findAccount(db, settings.directoryUrl);
    assert.equal(row?.account_url, a.getAccountUrl());
    assert.doesNotMatch(row!.key_sealed, /PRIVATE KEY/);
    assert.match(box.open(row!.key_sealed), /BEGIN PRIVATE KEY/);
    assert.equal((await db.selectFrom('acme_accounts').selectAll().execute()).length, 1);
  });

  it('issues a certificate for a host over HTTP-01 and hands it to the sink', async () => {
    await dns.addA('etax.ird.test', '127.0.0.1');
    const before = publications;
    const report = await runAcmeRound(deps(['etax.ird.test']));
    assert.deepEqual(report, { issued: ['etax.ird.test'], failed: [] });
    assert.equal(saved.length, 1);
    const cert = saved[0]!;
    assert.equal(cert.hostname, 'etax.ird.test');
    assert.equal(cert.source, 'acme');
    const [leaf, issuer] = certsOf(cert.chainPem);
    assert.ok(leaf && issuer, 'a leaf and its issuer');
    assert.equal(leaf.checkHost('etax.ird.test'), 'etax.ird.test');
    assert.ok(
      leaf.checkIssued(issuer) && leaf.verify(issuer.publicKey),
      'the leaf is signed by the next certificate',
    );
    assert.ok(leaf.checkPrivateKey(createPrivateKey(cert.keyPem)), 'the key is the leaf’s');
    const root = new X509Certificate(await pebble.root());
    assert.ok(certsOf(cert.chainPem).at(-1)!.verify(root.publicKey), 'the chain leads to the CA’s root');
    // The challenge was published (and withdrawn) through the hook, and none is left pending.
    assert.ok(publications >= before + 2);
    assert.deepEqual(await pendingAcmeChallenges(db), []);
    const order = await repo.findOrder(db, 'etax.ird.test');
    assert.equal(order?.state, 'valid');
    assert.equal(order?.not_after?.getTime(), new Date(leaf.validTo).getTime());
    assert.equal(order?.failures, 0);
  });

  it('leaves a good certificate alone and renews one near expiry (the job’s clock moved)', async () => {
    const notAfter = (await repo.findOrder(db, 'etax.ird.test'))!.not_after!;
    assert.deepEqual(await runAcmeRound(deps(['etax.ird.test'])), { issued: [], failed: [] });
    assert.equal(saved.length, 1);
    const late = new Date(notAfter.getTime() - 10 * DAY_MS);
    const report = await runAcmeRound(deps(['etax.ird.test'], { now: () => late }));
    assert.deepEqual(report.issued, ['etax.ird.test']);
    assert.equal(saved.length, 2);
    const [first, second] = saved.map((s) => certsOf(s.chainPem)[0]!);
    assert.notEqual(first!.serialNumber, second!.serialNumber);
    assert.notEqual(saved[0]!.keyPem, saved[1]!.keyPem, 'a renewal gets a new key');
    assert.equal((await repo.findOrder(db, 'etax.ird.test'))?.issued_at?.getTime(), late.getTime());
  });

  it('raises the expiry alert for a certificate inside the alert window', async () => {
    const notAfter = (await repo.findOrder(db, 'etax.ird.test'))!.not_after!;
    alerts.length = 0;
    // Renewal is due only 2 days before expiry here, so the certificate stays and the alert fires.
    const report = await runAcmeRound(
      deps(['etax.ird.test'], {
        settings: { ...settings, renewBeforeDays: 2 },
        now: () => new Date(notAfter.getTime() - 5 * DAY_MS),
      }),
    );
    assert.deepEqual(report, { issued: [], failed: [] });
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]?.kind, 'expiring');
    assert.match(alerts[0]!.message, /etax\.ird\.test expires in 5 days/);
    await runAcmeRound(deps(['etax.ird.test']));
    assert.deepEqual(alerts.at(-1), { kind: 'healthy', hostname: 'etax.ird.test', message: '' });
  });

  it('records a failed validation, backs off, raises the alert and tries again only when due', async () => {
    await dns.addA('pay.fsd.test', '127.0.0.1');
    silent.add('pay.fsd.test');
    alerts.length = 0;
    const t0 = new Date();
    const first = await runAcmeRound(deps(['pay.fsd.test'], { now: () => t0 }));
    assert.deepEqual(first.issued, []);
    assert.equal(first.failed.length, 1);
    let order = await repo.findOrder(db, 'pay.fsd.test');
    assert.equal(order?.state, 'failed');
    assert.equal(order?.failures, 1);
    assert.match(order!.last_error!, /404|unauthorized|invalid/i);
    assert.equal(order?.next_attempt_at?.getTime(), t0.getTime() + settings.backoffMs);
    assert.equal(alerts[0]?.kind, 'failed');
    assert.match(alerts[0]!.message, /ACME issuance for pay\.fsd\.test failed \(1 in a row\)/);
    // Not due yet: the round leaves the host alone (no order, no alert).
    assert.deepEqual(await runAcmeRound(deps(['pay.fsd.test'], { now: () => t0 })), {
      issued: [],
      failed: [],
    });
    assert.equal(alerts.length, 1);
    // Once due it tries again, and the wait doubles.
    const t1 = new Date(t0.getTime() + settings.backoffMs + 1);
    assert.equal((await runAcmeRound(deps(['pay.fsd.test'], { now: () => t1 }))).failed.length, 1);
    order = await repo.findOrder(db, 'pay.fsd.test');
    assert.equal(order?.failures, 2);
    assert.equal(order?.next_attempt_at?.getTime(), t1.getTime() + 2 * settings.backoffMs);
    assert.deepEqual(await pendingAcmeChallenges(db), [], 'the failed challenge is withdrawn');
    // Answered at last: issued, and the failure count is reset.
    silent.delete('pay.fsd.test');
    const t2 = new Date(t1.getTime() + 2 * settings.backoffMs + 1);
    assert.deepEqual((await runAcmeRound(deps(['pay.fsd.test'], { now: () => t2 }))).issued, [
      'pay.fsd.test',
    ]);
    order = await repo.findOrder(db, 'pay.fsd.test');
    assert.equal(order?.state, 'valid');
    assert.equal(order?.failures, 0);
    assert.equal(order?.last_error, null);
  });

  it('reuses the stored account after a restart', async () => {
    const account = await repo.findAccount(db, settings.directoryUrl);
    // A restart: nothing in memory survives; the next round reads the account from the store.
    await dns.addA('lands.ld.test', '127.0.0.1');
    const report = await runAcmeRound(deps(['lands.ld.test']));
    assert.deepEqual(report.issued, ['lands.ld.test']);
    const rows = await db.selectFrom('acme_accounts').selectAll().execute();
    assert.equal(rows.length, 1);
    assert.deepEqual(rows[0], account);
    const client = await acmeClient(db, box, settings);
    assert.equal(client.getAccountUrl(), account?.account_url);
  });
});
