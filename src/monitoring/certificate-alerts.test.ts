import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkUploadedExpiry } from '../edge/certificate-expiry.ts';
import { opensslMissing, testPki } from '../edge/certificates.fixtures.ts';
import { type TestApp, testApp } from '../test-support/app.ts';
import { CERTIFICATE_RULE, certificateAlerts } from './certificate-alerts.ts';

const noOpenssl = await opensslMissing();

// The ACME job's alerts reach people the way probe alerts do: alert, incident, notifications.
describe('certificate alerts', () => {
  let t: TestApp;
  let dept: string;
  let admin: string;
  let host: string;

  before(async () => {
    t = await testApp();
    dept = await t.department('CRT');
    admin = (await t.user('dept-admin', dept)).token;
    const res = await t.request(admin, {
      method: 'POST',
      url: '/api/v1/services',
      payload: {
        slug: 'etax',
        nameEn: 'eTAX',
        nameZh: '電子稅務',
        origin: 'new',
        channels: ['web'],
        slaTier: 'gold',
      },
    });
    assert.equal(res.statusCode, 201, res.body);
    host = `etax.${dept.toLowerCase()}.${t.config.domain}`;
  });
  after(() => t.close());

  const get = async (url: string) => {
    const res = await t.request(admin, { method: 'GET', url });
    assert.equal(res.statusCode, 200, res.body);
    return res.json();
  };

  it('a failed renewal fires one alert and opens one incident; a valid certificate resolves both', async () => {
    const alerts = certificateAlerts(t.db, t.config.domain);
    await alerts.failed(host, `ACME renewal for ${host} failed (1 in a row): unauthorized`);
    await alerts.failed(host, `ACME renewal for ${host} failed (2 in a row): unauthorized`);
    const fired = (await get('/api/v1/alerts?state=all')).items.filter(
      (a: { rule: string }) => a.rule === CERTIFICATE_RULE,
    );
    assert.equal(fired.length, 1);
    assert.equal(fired[0].state, 'firing');
    assert.match(fired[0].message, /1 in a row/);
    const incidents = (await get('/api/v1/incidents')).items;
    assert.equal(incidents.length, 1);
    assert.equal(incidents[0].rule, CERTIFICATE_RULE);
    assert.equal(incidents[0].state, 'open');
    assert.equal(incidents[0].severity, 'P2');

    await alerts.healthy(host);
    const after = (await get('/api/v1/alerts?state=all')).items.find(
      (a: { rule: string }) => a.rule === CERTIFICATE_RULE,
    );
    assert.equal(after.state, 'resolved');
    assert.equal((await get('/api/v1/incidents?state=all')).items[0].state, 'resolved');
  });

  it('an expiry near opens a P3 incident; a host of no service is handed back', async () => {
    const res = await t.request(admin, {
      method: 'POST',
      url: '/api/v1/services',
      payload: {
        slug: 'rates',
        nameEn: 'Rates',
        nameZh: '差餉',
        origin: 'new',
        channels: ['web'],
        slaTier: 'gold',
      },
    });
    assert.equal(res.statusCode, 201, res.body);
    const host = `rates.${dept.toLowerCase()}.${t.config.domain}`;
    const unmatched: string[] = [];
    const alerts = certificateAlerts(t.db, t.config.domain, (h) => unmatched.push(h));
    await alerts.expiring(host, new Date(), `the certificate of ${host} expires in 5 days`);
    const open = (await get('/api/v1/incidents')).items.find((i: { state: string }) => i.state === 'open');
    assert.equal(open?.severity, 'P3');
    assert.match(open?.title, /expires in 5 days/);
    await alerts.failed('www.example.org', 'failed');
    assert.deepEqual(unmatched, ['www.example.org']);
  });

  it('an uploaded certificate near expiry alerts the service of a custom name it covers, until its renewal is uploaded', {
    skip: noOpenssl ?? false,
  }, async () => {
    const operator = (await t.user('operator')).token;
    const claim = await t.request(admin, {
      method: 'POST',
      url: `/api/v1/services/${dept}/rates/domains`,
      payload: { hostname: 'rates.crt.gov.example' },
    });
    assert.equal(claim.statusCode, 201, claim.body);
    const approved = await t.request(operator, {
      method: 'POST',
      url: '/api/v1/domains/rates.crt.gov.example/approve',
    });
    assert.equal(approved.statusCode, 200, approved.body);
    const pki = await testPki();
    try {
      const upload = async (days: number) => {
        const leaf = await pki.leaf(['*.crt.gov.example'], { days });
        const res = await t.request(operator, {
          method: 'POST',
          url: '/api/v1/certificates',
          payload: { chain: leaf.cert + pki.intermediate.cert, key: leaf.key },
        });
        assert.equal(res.statusCode, 201, res.body);
      };
      const check = () =>
        checkUploadedExpiry(t.db, {
          domain: t.config.domain,
          alertBeforeDays: 14,
          alerts: certificateAlerts(t.db, t.config.domain),
        });
      const rates = async () =>
        (await get('/api/v1/alerts?state=all')).items.filter(
          (a: { rule: string; service: string }) =>
            a.rule === CERTIFICATE_RULE && a.service === `${dept}/rates`,
        );
      // The earlier test left an alert firing for this service: resolve it so this one stands alone.
      await certificateAlerts(t.db, t.config.domain).healthy(
        `rates.${dept.toLowerCase()}.${t.config.domain}`,
      );
      await upload(5);
      assert.deepEqual(await check(), { expiring: ['rates.crt.gov.example'], healthy: [] });
      const firing = (await rates()).filter((a: { state: string }) => a.state === 'firing');
      assert.equal(firing.length, 1);
      assert.match(firing[0].message, /uploaded certificate of rates\.crt\.gov\.example expires in 4 days/);
      await upload(90);
      assert.deepEqual(await check(), { expiring: [], healthy: ['rates.crt.gov.example'] });
      assert.ok((await rates()).every((a: { state: string }) => a.state === 'resolved'));
    } finally {
      await pki.close();
    }
  });
});
