// Custom domains through the API on a real store (PGlite, or PostgreSQL when the run says so):
// claims, the one-service-per-name rule across departments, isolation, platform names, the
// operators' queue, and the DNS TXT proof against a real DNS server on loopback.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestApp, testApp } from '../test-support/app.ts';
import { challTestSrvMissing, startChallTestSrv } from '../test-support/challtestsrv.ts';

const service = (slug: string) => ({
  slug,
  nameEn: `Service ${slug}`,
  nameZh: `服務 ${slug}`,
  origin: 'new',
  channels: ['web'],
  slaTier: 'silver',
});

async function withService(t: TestApp, token: string, dept: string, slug: string) {
  const res = await t.request(token, {
    method: 'POST',
    url: '/api/v1/services',
    payload: { ...service(slug), department: dept },
  });
  assert.equal(res.statusCode, 201, res.body);
}

const claim = (t: TestApp, token: string, svc: string, hostname: string) =>
  t.request(token, { method: 'POST', url: `/api/v1/services/${svc}/domains`, payload: { hostname } });
const list = (t: TestApp, token: string, svc: string) =>
  t.request(token, { method: 'GET', url: `/api/v1/services/${svc}/domains` });
const decide = (t: TestApp, token: string, hostname: string, verb: string, payload?: unknown) =>
  t.request(token, {
    method: 'POST',
    url: `/api/v1/domains/${encodeURIComponent(hostname)}/${verb}`,
    ...(payload ? { payload } : {}),
  });

describe('custom domains', () => {
  let t: TestApp;
  let a: string;
  let b: string;
  let devA: string;
  let devB: string;
  let viewerA: string;
  let operator: string;
  before(async () => {
    t = await testApp({ domain: 'platform.example', host: 'console.govhost.example' });
    a = await t.department('DA');
    b = await t.department('DB');
    devA = (await t.user('dept-developer', a)).token;
    devB = (await t.user('dept-developer', b)).token;
    viewerA = (await t.user('dept-viewer', a)).token;
    operator = (await t.user('operator')).token;
    await withService(t, devA, a, 'etax');
    await withService(t, devA, a, 'forms');
    await withService(t, devB, b, 'portal');
  });
  after(() => t.close());

  it('files a pending claim, normalised, and lists it with its TXT record; audited', async () => {
    const res = await claim(t, devA, `${a}/etax`, ' eTax.IRD.Gov.HK. ');
    assert.equal(res.statusCode, 201, res.body);
    const d = res.json();
    assert.equal(d.hostname, 'etax.ird.gov.hk');
    assert.equal(d.service, `${a}/etax`);
    assert.equal(d.state, 'pending');
    assert.equal(d.source, 'api');
    assert.equal(d.txtRecord.name, '_govhost-challenge.etax.ird.gov.hk');
    assert.match(d.txtRecord.value, /^[A-Za-z0-9_-]{24}$/);
    const idn = await claim(t, devA, `${a}/etax`, '稅務.gov.hk');
    assert.equal(idn.statusCode, 201, idn.body);
    assert.equal(idn.json().hostname, 'xn--lhr942g.gov.hk');
    const listed = await list(t, viewerA, `${a}/etax`);
    assert.equal(listed.statusCode, 200);
    assert.deepEqual(
      listed.json().map((x: { hostname: string; state: string }) => [x.hostname, x.state]),
      [
        ['etax.ird.gov.hk', 'pending'],
        ['xn--lhr942g.gov.hk', 'pending'],
      ],
    );
    const audit = await t.request(t.adminToken, {
      method: 'GET',
      url: '/api/v1/audit?action=domain.claim&target=etax.ird.gov.hk',
    });
    assert.equal(audit.json().items.length, 1, audit.body);
  });

  it('refuses a second claim on a name, from another department (409 naming nobody) or the same', async () => {
    const other = await claim(t, devB, `${b}/portal`, 'ETAX.ird.gov.hk');
    assert.equal(other.statusCode, 409, other.body);
    assert.equal(other.json().code, 'GOVHOST_DOMAIN_TAKEN');
    assert.equal(other.json().detail, 'etax.ird.gov.hk is already claimed by another service');
    assert.doesNotMatch(other.body, new RegExp(`${a}|etax\\b(?!\\.ird)`));
    const sameDept = await claim(t, devA, `${a}/forms`, 'etax.ird.gov.hk');
    assert.equal(sameDept.statusCode, 409);
    const again = await claim(t, devA, `${a}/etax`, 'etax.ird.gov.hk');
    assert.equal(again.statusCode, 409);
    assert.match(again.json().detail, /already claimed by this service \(pending\)/);
    // The first claim is untouched.
    const first = (await list(t, devA, `${a}/etax`)).json();
    assert.equal(first.find((x: { hostname: string }) => x.hostname === 'etax.ird.gov.hk').state, 'pending');
  });

  it("does not let a department list, claim for or remove another department's claims", async () => {
    assert.equal((await list(t, devB, `${a}/etax`)).statusCode, 404);
    assert.equal((await claim(t, devB, `${a}/etax`, 'x.ird.gov.hk')).statusCode, 404);
    const del = await t.request(devB, {
      method: 'DELETE',
      url: `/api/v1/services/${a}/etax/domains/etax.ird.gov.hk`,
    });
    assert.equal(del.statusCode, 404);
    // Not through its own service either: the name is not that service's claim.
    const viaOwn = await t.request(devB, {
      method: 'DELETE',
      url: `/api/v1/services/${b}/portal/domains/etax.ird.gov.hk`,
    });
    assert.equal(viaOwn.statusCode, 404);
    const queue = await t.request(devB, { method: 'GET', url: '/api/v1/domains' });
    assert.equal(queue.statusCode, 200);
    assert.deepEqual(queue.json().items, []);
    assert.equal((await list(t, devA, `${a}/etax`)).json().length, 2);
  });

  it("refuses the platform's own names, wildcards, addresses and malformed names, saying why", async () => {
    const refused: [string, string, RegExp][] = [
      ['forms.da.platform.example', 'GOVHOST_DOMAIN_RESERVED', /under the platform domain platform\.example/],
      ['platform.example', 'GOVHOST_DOMAIN_RESERVED', /platform domain/],
      ['console.govhost.example', 'GOVHOST_DOMAIN_RESERVED', /console and API host/],
      ['localhost', 'GOVHOST_DOMAIN_RESERVED', /loopback/],
      ['app.localhost', 'GOVHOST_DOMAIN_RESERVED', /loopback/],
      ['*.gov.hk', 'GOVHOST_DOMAIN_INVALID', /wildcard/],
      ['127.0.0.1', 'GOVHOST_DOMAIN_INVALID', /IP address/],
      ['[::1]', 'GOVHOST_DOMAIN_INVALID', /IP address/],
      ['gov', 'GOVHOST_DOMAIN_INVALID', /two labels/],
      ['https://etax.gov.hk/', 'GOVHOST_DOMAIN_INVALID', /without scheme/],
      ['etax.gov.hk:8443', 'GOVHOST_DOMAIN_INVALID', /without scheme, port/],
      ['a..gov.hk', 'GOVHOST_DOMAIN_INVALID', /not a valid host name|label/],
      ['under_score.gov.hk', 'GOVHOST_DOMAIN_INVALID', /label "under_score"/],
      ['-dash.gov.hk', 'GOVHOST_DOMAIN_INVALID', /label/],
      [`${'a'.repeat(64)}.gov.hk`, 'GOVHOST_DOMAIN_INVALID', /longer than 63/],
      [`${'abcdefghi.'.repeat(25)}ab.hk`, 'GOVHOST_DOMAIN_INVALID', /longer than 253/],
    ];
    for (const [name, code, why] of refused) {
      const res = await claim(t, devA, `${a}/forms`, name);
      assert.ok(res.statusCode === 422 || res.statusCode === 400, `${name}: ${res.statusCode} ${res.body}`);
      assert.equal(res.json().code, code, name);
      assert.match(res.json().detail, why, name);
    }
  });

  it('lets only department writers claim and only operators decide', async () => {
    assert.equal((await claim(t, viewerA, `${a}/forms`, 'forms.gov.hk')).statusCode, 403);
    const admin = (await t.user('dept-admin', a)).token;
    assert.equal((await decide(t, admin, 'etax.ird.gov.hk', 'approve')).statusCode, 403);
    assert.equal((await decide(t, devA, 'etax.ird.gov.hk', 'reject', { reason: 'x' })).statusCode, 403);
  });

  it('gives operators the pending queue of every department, and approve and reject with the reason', async () => {
    assert.equal((await claim(t, devB, `${b}/portal`, 'portal.gov.hk')).statusCode, 201);
    const queue = await t.request(operator, { method: 'GET', url: '/api/v1/domains?state=pending' });
    assert.equal(queue.statusCode, 200);
    const names = queue.json().items.map((x: { hostname: string }) => x.hostname);
    assert.ok(names.includes('etax.ird.gov.hk') && names.includes('portal.gov.hk'), names.join(' '));

    const ok = await decide(t, operator, 'ETAX.ird.gov.hk', 'approve');
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.json().state, 'approved');
    assert.ok(ok.json().decidedBy && ok.json().decidedAt);
    assert.equal(
      (await decide(t, operator, 'etax.ird.gov.hk', 'approve')).json().code,
      'GOVHOST_DOMAIN_STATE',
    );

    assert.equal((await decide(t, operator, 'portal.gov.hk', 'reject', {})).statusCode, 400);
    const no = await decide(t, operator, 'portal.gov.hk', 'reject', { reason: 'Not a government name' });
    assert.equal(no.statusCode, 200, no.body);
    assert.equal(no.json().state, 'rejected');
    assert.equal(no.json().rejectReason, 'Not a government name');
    assert.equal((await decide(t, operator, 'nobody.gov.hk', 'approve')).statusCode, 404);

    const audit = await t.request(t.adminToken, { method: 'GET', url: '/api/v1/audit?action=domain.' });
    const actions = audit.json().items.map((r: { action: string }) => r.action);
    assert.ok(actions.includes('domain.approve') && actions.includes('domain.reject'), actions.join(' '));

    const pending = await t.request(operator, { method: 'GET', url: '/api/v1/domains?state=pending' });
    assert.ok(!pending.json().items.some((x: { hostname: string }) => x.hostname === 'portal.gov.hk'));
  });

  it('removes a claim, which frees the name for another department', async () => {
    const del = await t.request(devA, {
      method: 'DELETE',
      url: `/api/v1/services/${a}/etax/domains/xn--lhr942g.gov.hk`,
    });
    assert.equal(del.statusCode, 204, del.body);
    assert.equal((await claim(t, devB, `${b}/portal`, '稅務.gov.hk')).statusCode, 201);
  });
});

describe('custom domains: the DNS TXT proof', () => {
  const missing = challTestSrvMissing();
  let t: TestApp;
  let dns: Awaited<ReturnType<typeof startChallTestSrv>>;
  let dev: string;
  let operator: string;
  let dept: string;
  before(async () => {
    if (missing) return;
    dns = await startChallTestSrv();
    t = await testApp({ domainTxtCheck: true, dnsResolver: `127.0.0.1:${dns.dnsPort}` });
    dept = await t.department('DNS');
    dev = (await t.user('dept-developer', dept)).token;
    operator = (await t.user('operator')).token;
    await withService(t, dev, dept, 'etax');
  });
  after(async () => {
    await t?.close();
    await dns?.close();
  });

  it('approves only once _govhost-challenge holds the token: missing, wrong, right', {
    skip: missing,
  }, async () => {
    const claimed = await claim(t, dev, `${dept}/etax`, 'etax.dns.example');
    assert.equal(claimed.statusCode, 201, claimed.body);
    const { name, value } = claimed.json().txtRecord;

    const none = await decide(t, operator, 'etax.dns.example', 'approve');
    assert.equal(none.statusCode, 422, none.body);
    assert.equal(none.json().code, 'GOVHOST_DOMAIN_DNS_CHECK_FAILED');
    assert.match(none.json().detail, /_govhost-challenge\.etax\.dns\.example has no TXT record/);
    assert.deepEqual(none.json().found, []);

    await dns.setTxt(name, 'not-the-token');
    const wrong = await decide(t, operator, 'etax.dns.example', 'approve');
    assert.equal(wrong.statusCode, 422, wrong.body);
    assert.match(wrong.json().detail, /has TXT "not-the-token"; it must have the TXT record/);
    assert.equal(wrong.json().expected, value);
    assert.equal((await list(t, dev, `${dept}/etax`)).json()[0].state, 'pending');

    await dns.setTxt(name, value);
    const right = await decide(t, operator, 'etax.dns.example', 'approve');
    assert.equal(right.statusCode, 200, right.body);
    assert.equal(right.json().state, 'approved');
  });
});
