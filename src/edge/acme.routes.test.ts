import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../platform/config.ts';
import { type TestApp, testApp } from '../test-support/app.ts';
import { runCli } from '../test-support/server-process.ts';
import * as repo from './acme.repository.ts';
import { acmeSettingsOf, platformHostnames } from './acme.start.ts';

// The operators' view of ACME: the API and `govhost acme status` over the job's records.
describe('ACME status for operators', () => {
  let t: TestApp;
  let url: string;
  let operator: string;
  const expires = new Date('2027-03-01T00:00:00Z');
  const retry = new Date('2026-12-07T13:00:00Z');

  before(async () => {
    t = await testApp({ acmeDirectoryUrl: 'https://ca.example.gov/dir' });
    url = await t.listen();
    operator = (await t.user('operator')).token;
    const at = new Date('2026-12-07T12:00:00Z');
    await repo.putOrder(t.db, {
      hostname: 'etax.ird.gov.example',
      state: 'valid',
      not_after: expires,
      issued_at: at,
      last_error: null,
      failures: 0,
      next_attempt_at: null,
      updated_at: at,
    });
    await repo.putOrder(t.db, {
      hostname: 'pay.fsd.gov.example',
      state: 'failed',
      not_after: null,
      issued_at: null,
      last_error: 'urn:ietf:params:acme:error:unauthorized: 404 for the challenge',
      failures: 2,
      next_attempt_at: retry,
      updated_at: at,
    });
  });
  after(() => t.close());

  it('lists each host with its state, expiry, last error and next attempt', async () => {
    const res = await t.request(operator, { method: 'GET', url: '/api/v1/acme/orders' });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.enabled, true);
    assert.deepEqual(
      body.items.map((o: { hostname: string; state: string; notAfter: string | null; failures: number }) => [
        o.hostname,
        o.state,
        o.notAfter,
        o.failures,
      ]),
      [
        ['etax.ird.gov.example', 'valid', expires.toISOString(), 0],
        ['pay.fsd.gov.example', 'failed', null, 2],
      ],
    );
    assert.equal(body.items[1].nextAttemptAt, retry.toISOString());
    assert.match(body.items[1].lastError, /unauthorized/);
  });

  it('is for operators: a department admin is refused with a problem, an anonymous caller too', async () => {
    const dept = await t.department('ACM');
    const deptAdmin = (await t.user('dept-admin', dept)).token;
    const refused = await t.request(deptAdmin, { method: 'GET', url: '/api/v1/acme/orders' });
    assert.equal(refused.statusCode, 403);
    assert.match(refused.headers['content-type'] as string, /application\/problem\+json/);
    const anonymous = await t.request(null, { method: 'GET', url: '/api/v1/acme/orders' });
    assert.equal(anonymous.statusCode, 401);
  });

  it('govhost acme status prints the table', async () => {
    const r = await runCli(url, operator, ['acme', 'status']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0]!, /^HOST\s+STATE\s+EXPIRES\s+FAILURES\s+NEXT ATTEMPT\s+LAST ERROR$/);
    assert.match(lines[1]!, /^etax\.ird\.gov\.example\s+valid\s+2027-03-01\s+0\s/);
    assert.match(lines[2]!, /^pay\.fsd\.gov\.example\s+failed\s+-?\s*2\s+2026-12-07 13:00:00Z\s+urn:ietf/);
  });

  it('orders for the platform hostname of every active service, and only with a directory set', async () => {
    const dept = await t.department('HST');
    const admin = (await t.user('dept-admin', dept)).token;
    for (const slug of ['live', 'draft']) {
      const res = await t.request(admin, {
        method: 'POST',
        url: '/api/v1/services',
        payload: { slug, nameEn: slug, nameZh: slug, origin: 'new', channels: ['web'], slaTier: 'bronze' },
      });
      assert.equal(res.statusCode, 201, res.body);
    }
    const activated = await t.request(admin, {
      method: 'PATCH',
      url: `/api/v1/services/${dept}/live`,
      payload: { lifecycle: 'active' },
    });
    assert.equal(activated.statusCode, 200, activated.body);
    const hosts = await platformHostnames(t.db, t.config.domain);
    assert.ok(hosts.includes(`live.${dept.toLowerCase()}.${t.config.domain}`), hosts.join(' '));
    assert.ok(
      !hosts.includes(`draft.${dept.toLowerCase()}.${t.config.domain}`),
      'a planned service has no certificate',
    );
    assert.equal(acmeSettingsOf({ ...t.config, acmeDirectoryUrl: null }), null);
    assert.equal(acmeSettingsOf(t.config)?.renewBeforeDays, 30);
  });

  it('refuses a directory that is not https, and a contact that is not an address, naming the variable', () => {
    assert.throws(
      () => loadConfig({ GOVHOST_ACME_DIRECTORY_URL: 'http://ca.example/dir', GOVHOST_ACME_EMAIL: 'ops' }),
      (err: Error) =>
        /GOVHOST_ACME_DIRECTORY_URL \(ACME directory\) must be an https:\/\/ URL/.test(err.message) &&
        /GOVHOST_ACME_EMAIL \(ACME account contact\) must be an e-mail address/.test(err.message),
    );
  });
});
