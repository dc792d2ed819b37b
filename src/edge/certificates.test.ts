import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DomainError } from '../platform/errors.ts';
import { SecretBox } from '../platform/secrets.ts';
import { type TestApp, testApp } from '../test-support/app.ts';
import { acmeHosts } from './acme.start.ts';
import { checkCertificate } from './certificates.check.ts';
import { opensslMissing, type TestPki, testPki } from './certificates.fixtures.ts';
import { certificatesForRoutes, expiringCertificates, openKeys } from './certificates.logic.ts';
import { httpsForRoutes } from './service-https.logic.ts';

const DAY = 86_400_000;
const skip = await opensslMissing();

/** The refusal `fn` throws: its stable reason and its sentence. */
function refusal(fn: () => unknown): { code: string; reason: string; detail: string } {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof DomainError, String(err));
    return { code: err.code, reason: String(err.extensions.reason), detail: err.message };
  }
  assert.fail('the certificate was accepted');
}

describe('certificate checks at upload', { skip: skip ?? false }, () => {
  let pki: TestPki;
  let leaf: { cert: string; key: string };
  let chain: string;
  const now = new Date();
  before(async () => {
    pki = await testPki();
    leaf = await pki.leaf(['*.ird.gov.hk', 'ird.gov.hk']);
    chain = leaf.cert + pki.intermediate.cert;
  });
  after(() => pki?.close());

  it('accepts a leaf and its intermediate, and says what it covers', () => {
    const c = checkCertificate(chain, leaf.key, { now, host: 'etax.ird.gov.hk' });
    assert.deepEqual(c.names, ['*.ird.gov.hk', 'ird.gov.hk']);
    assert.match(c.issuer, /GovHost Test Intermediate/);
    assert.equal(c.keyType, 'ec-prime256v1');
    assert.match(c.fingerprint, /^[0-9a-f]{64}$/);
    assert.equal(c.chain.match(/BEGIN CERTIFICATE/g)?.length, 2);
    assert.ok(c.notAfter.getTime() - now.getTime() > 80 * DAY);
    // With the root too, still fine: a root is allowed, not required.
    assert.equal(checkCertificate(chain + pki.root.cert, leaf.key, { now }).chain.match(/BEGIN/g)?.length, 3);
  });

  it('refuses each problem with its reason', async () => {
    const other = await pki.leaf(['other.gov.hk']);
    const rsa1024 = await pki.leaf(['weak.gov.hk'], {
      keyAlg: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024'],
    });
    const ed = await pki.leaf(['ed.gov.hk'], { keyAlg: ['-algorithm', 'ED25519'] });
    const bare = await pki.leaf([]);
    const cases: [string, () => unknown, string, RegExp][] = [
      ['not PEM', () => checkCertificate('hello', leaf.key, { now }), 'not-pem', /no PEM block/],
      [
        'a key where a certificate goes',
        () => checkCertificate(leaf.key, leaf.key, { now }),
        'not-a-certificate',
        /block 1 of the chain is a PRIVATE KEY/,
      ],
      [
        'a certificate as the key',
        () => checkCertificate(chain, leaf.cert, { now }),
        'not-a-key',
        /CERTIFICATE block is not/,
      ],
      [
        'another leaf key',
        () => checkCertificate(chain, other.key, { now }),
        'key-mismatch',
        /does not belong/,
      ],
      [
        'issuers out of order',
        () => checkCertificate(leaf.cert + pki.root.cert + pki.intermediate.cert, leaf.key, { now }),
        'chain-broken',
        /certificate 1 .* is not issued and signed by certificate 2/,
      ],
      [
        'expired',
        () => checkCertificate(chain, leaf.key, { now: new Date(now.getTime() + 120 * DAY) }),
        'expired',
        /the leaf certificate expired on/,
      ],
      [
        'not yet valid',
        () => checkCertificate(chain, leaf.key, { now: new Date(now.getTime() - DAY) }),
        'not-yet-valid',
        /not valid before/,
      ],
      [
        'no DNS names',
        () => checkCertificate(bare.cert + pki.intermediate.cert, bare.key, { now }),
        'no-dns-names',
        /names no DNS host/,
      ],
      [
        'RSA of 1024 bits',
        () => checkCertificate(rsa1024.cert, rsa1024.key, { now }),
        'unsupported-key',
        /1024 bits is too short/,
      ],
      [
        'Ed25519',
        () => checkCertificate(ed.cert, ed.key, { now }),
        'unsupported-key',
        /ed25519 key is not supported/,
      ],
      [
        'another host',
        () => checkCertificate(chain, leaf.key, { now, host: 'etax.customs.gov.hk' }),
        'host-not-covered',
        /does not cover etax.customs.gov.hk; it covers \*.ird.gov.hk, ird.gov.hk/,
      ],
      [
        'a wildcard one level only',
        () => checkCertificate(chain, leaf.key, { now, host: 'a.b.ird.gov.hk' }),
        'host-not-covered',
        /does not cover a.b.ird.gov.hk/,
      ],
    ];
    for (const [what, fn, reason, detail] of cases) {
      const r = refusal(fn);
      assert.equal(r.reason, reason, `${what}: ${r.detail}`);
      assert.match(r.detail, detail, what);
      const unreadable = ['not-pem', 'not-a-certificate', 'not-a-key'].includes(reason);
      assert.equal(
        r.code,
        unreadable ? 'GOVHOST_CERTIFICATE_UNREADABLE' : 'GOVHOST_CERTIFICATE_INVALID',
        what,
      );
    }
  });
});

describe('the certificate store through the API', { skip: skip ?? false }, () => {
  let t: TestApp;
  let pki: TestPki;
  let operator: string;
  let dept: string;
  let deptAdmin: string;
  let deptViewer: string;
  let developer: string;
  let chain: string;
  let key: string;
  let changes = 0;
  before(async () => {
    [t, pki] = await Promise.all([testApp(), testPki()]);
    t.deps.onEdgeChange = async () => {
      changes++;
    };
    operator = (await t.user('operator')).token;
    dept = await t.department('IRD');
    deptAdmin = (await t.user('dept-admin', dept)).token;
    deptViewer = (await t.user('dept-viewer', dept)).token;
    developer = (await t.user('dept-developer', dept)).token;
    const leaf = await pki.leaf([`*.${dept.toLowerCase()}.gov.hk`]);
    chain = leaf.cert + pki.intermediate.cert;
    key = leaf.key;
  });
  after(async () => {
    await t?.close();
    await pki?.close();
  });

  const upload = (token: string, payload: object) =>
    t.request(token, { method: 'POST', url: '/api/v1/certificates', payload });

  it('an operator uploads, lists, shows and removes a certificate; its key is shown nowhere', async () => {
    const res = await upload(operator, { chain, key, host: `etax.${dept.toLowerCase()}.gov.hk` });
    assert.equal(res.statusCode, 201, res.body);
    const cert = res.json();
    assert.deepEqual(cert.names, [`*.${dept.toLowerCase()}.gov.hk`]);
    assert.equal(cert.source, 'uploaded');
    assert.ok(cert.daysLeft >= 88 && cert.daysLeft <= 90, String(cert.daysLeft));
    assert.equal(changes, 1, 'the route table is published again');
    const list = await t.request(operator, { method: 'GET', url: '/api/v1/certificates' });
    const show = await t.request(operator, { method: 'GET', url: `/api/v1/certificates/${cert.id}` });
    assert.equal(show.json().fingerprint, cert.fingerprint);
    assert.deepEqual(
      list.json().items.map((c: { id: string }) => c.id),
      [cert.id],
    );
    for (const body of [res.body, list.body, show.body]) {
      assert.doesNotMatch(body, /PRIVATE KEY|"key"/);
      assert.ok(!body.includes(key.split('\n')[1] as string));
    }
    // At rest: sealed, and nothing of the clear key in the row.
    const row = await t.db
      .selectFrom('certificates')
      .selectAll()
      .where('id', '=', cert.id)
      .executeTakeFirstOrThrow();
    assert.match(row.key_sealed, /^v1:/);
    assert.ok(!JSON.stringify(row).includes('PRIVATE KEY'));
    // What the runtime publishes: sealed still; opened only for a router.
    const box = t.deps.config.secretKey ? null : new SecretBox(await secretKeyOf(t));
    const published = await certificatesForRoutes(t.db);
    assert.deepEqual(
      published.map((c) => c.id),
      [cert.id],
    );
    assert.ok(published[0]?.key.startsWith('v1:'));
    assert.match(openKeys(published, box as SecretBox)[0]?.key ?? '', /BEGIN PRIVATE KEY/);
    // Expiry: within 100 days, not within 30.
    assert.deepEqual(
      (await expiringCertificates(t.db, 100)).map((c) => c.id),
      [cert.id],
    );
    assert.deepEqual(await expiringCertificates(t.db, 30), []);
    // The same leaf again: a conflict, not a second row.
    assert.equal((await upload(operator, { chain, key })).statusCode, 409);
    const removed = await t.request(operator, { method: 'DELETE', url: `/api/v1/certificates/${cert.id}` });
    assert.equal(removed.statusCode, 200, removed.body);
    assert.equal(changes, 2, 'removal publishes the table again');
    const gone = await t.request(operator, { method: 'GET', url: `/api/v1/certificates/${cert.id}` });
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.json().code, 'GOVHOST_CERTIFICATE_NOT_FOUND');
    assert.deepEqual(await certificatesForRoutes(t.db), []);
    const audit = await t.request(t.adminToken, { method: 'GET', url: '/api/v1/audit?action=certificate.' });
    const actions = audit
      .json()
      .items.map((r: { action: string; targetId: string }) => `${r.action} ${r.targetId}`);
    assert.deepEqual(actions, [`certificate.remove ${cert.id}`, `certificate.add ${cert.id}`]);
    assert.doesNotMatch(audit.body, /PRIVATE KEY/);
  });

  it('refusals are problems that say why', async () => {
    const notPem = await upload(operator, { chain: 'not a certificate', key });
    assert.equal(notPem.statusCode, 400);
    assert.match(String(notPem.headers['content-type']), /application\/problem\+json/);
    assert.equal(notPem.json().reason, 'not-pem');
    const other = await pki.leaf(['x.gov.hk']);
    const mismatch = await upload(operator, { chain, key: other.key });
    assert.equal(mismatch.statusCode, 422);
    assert.equal(mismatch.json().code, 'GOVHOST_CERTIFICATE_INVALID');
    assert.equal(mismatch.json().reason, 'key-mismatch');
    assert.match(mismatch.json().detail, /does not belong to the leaf/);
    const host = await upload(operator, { chain, key, host: 'etax.customs.gov.hk' });
    assert.equal(host.json().reason, 'host-not-covered');
    assert.equal((await upload(operator, { chain, key, extra: 1 })).statusCode, 400);
  });

  it('department users may not read or change certificates (403)', async () => {
    for (const token of [deptAdmin, deptViewer, developer]) {
      const up = await upload(token, { chain, key });
      assert.equal(up.statusCode, 403, up.body);
      assert.equal(up.json().code, 'GOVHOST_FORBIDDEN');
      assert.equal((await t.request(token, { method: 'GET', url: '/api/v1/certificates' })).statusCode, 403);
    }
    const readOnly = (await t.user('operator', undefined, 'read')).token;
    assert.equal((await upload(readOnly, { chain, key })).statusCode, 403);
    assert.equal((await t.request(readOnly, { method: 'GET', url: '/api/v1/certificates' })).statusCode, 200);
  });

  it("a service's department turns its redirect and HSTS off; routes say so", async () => {
    const created = await t.request(deptAdmin, {
      method: 'POST',
      url: '/api/v1/services',
      payload: {
        slug: 'etax',
        nameEn: 'eTAX',
        nameZh: '電子報稅',
        origin: 'new',
        channels: ['web'],
        slaTier: 'silver',
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    const url = `/api/v1/services/${dept}/etax/https`;
    assert.deepEqual((await t.request(deptViewer, { method: 'GET', url })).json(), {
      httpsRedirect: true,
      hsts: true,
    });
    assert.equal(
      (await t.request(deptViewer, { method: 'PATCH', url, payload: { hsts: false } })).statusCode,
      403,
    );
    const before = changes;
    const set = await t.request(developer, { method: 'PATCH', url, payload: { httpsRedirect: false } });
    assert.equal(set.statusCode, 200, set.body);
    assert.deepEqual(set.json(), { httpsRedirect: false, hsts: true });
    assert.equal(changes, before + 1);
    assert.deepEqual([...(await httpsForRoutes(t.db)).values()], [{ httpsRedirect: false }]);
    // Another department's user is told the service does not exist.
    const stranger = (await t.user('dept-admin', await t.department('CED'))).token;
    assert.equal(
      (await t.request(stranger, { method: 'PATCH', url, payload: { hsts: false } })).statusCode,
      404,
    );
    await t.request(developer, { method: 'PATCH', url, payload: { httpsRedirect: true } });
    assert.deepEqual([...(await httpsForRoutes(t.db)).values()], []);
  });

  it('ACME looks after platform and approved custom names, less those an uploaded certificate covers', async () => {
    const d = dept.toLowerCase();
    const claim = (hostname: string) =>
      t.request(deptAdmin, {
        method: 'POST',
        url: `/api/v1/services/${dept}/etax/domains`,
        payload: { hostname },
      });
    for (const hostname of ['etax.gov.example', `www.${d}.gov.hk`]) {
      assert.equal((await claim(hostname)).statusCode, 201);
      const ok = await t.request(operator, { method: 'POST', url: `/api/v1/domains/${hostname}/approve` });
      assert.equal(ok.statusCode, 200, ok.body);
    }
    assert.equal((await claim('pending.gov.example')).statusCode, 201);
    const hosts = async (renewBeforeDays = 30) =>
      (await acmeHosts(t.db, t.config.domain, renewBeforeDays)).sort();
    // The service has never been deployed (not active): its platform name waits; approved names do not.
    const platformName = `etax.${d}.${t.config.domain}`;
    assert.ok(!(await hosts()).includes(platformName));
    assert.deepEqual(await hosts(), ['etax.gov.example', `www.${d}.gov.hk`].sort());
    // An uploaded wildcard for the department's domain (valid 90 days): its host is left out.
    const res = await upload(operator, { chain, key });
    assert.equal(res.statusCode, 201, res.body);
    assert.deepEqual(await hosts(), ['etax.gov.example']);
    // Inside the renewal window (here 100 days) the upload no longer counts: ACME takes the host back.
    assert.deepEqual(await hosts(100), ['etax.gov.example', `www.${d}.gov.hk`].sort());
  });
});

/** The platform's secret key as the routes load it (the data folder's secret.key). */
async function secretKeyOf(t: TestApp): Promise<Buffer> {
  const { loadKey } = await import('../platform/secrets.ts');
  const { join } = await import('node:path');
  return loadKey(join(t.config.dataDir, 'secret.key'), t.config.secretKey, 'GOVHOST_SECRET_KEY');
}
