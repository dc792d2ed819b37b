// The cut-over API on a real store (decision 035): who may set and read it, the allow-list, the
// platform's own ports, validation, audit, and what the route table gets. The router's side is
// src/router/cutover.test.ts; the whole path through a real platform is cutover.e2e.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestApp, testApp } from '../test-support/app.ts';
import { routedCutovers } from './cutover.logic.ts';

let t: TestApp;
let dept: string;
let other: string;
let operator: string;
let deptAdmin: string;
let outsider: string;

const legacy = 'http://127.0.0.1:18080';
const url = (d = dept) => `/api/v1/services/${d}/etax/cutover`;

before(async () => {
  // The API's own port and the router's are refused even though 127.0.0.1 is allowed.
  t = await testApp({ legacyAllow: ['127.0.0.1', 'egis.internal'], port: 18443, routerAdminPort: 18081 });
  dept = await t.department('CI');
  other = await t.department('CO');
  operator = (await t.user('operator')).token;
  deptAdmin = (await t.user('dept-admin', dept)).token;
  outsider = (await t.user('dept-admin', other)).token;
  for (const d of [dept, other]) {
    const res = await t.request(t.adminToken, {
      method: 'POST',
      url: '/api/v1/services',
      payload: {
        department: d,
        slug: 'etax',
        nameEn: 'eTax',
        nameZh: '電子報稅',
        origin: 'new',
        channels: ['web'],
        slaTier: 'silver',
      },
    });
    assert.equal(res.statusCode, 201, res.body);
  }
});
after(() => t.close());

describe('cut-over API', () => {
  it('lets an operator front a service, a department user read it, and audits it', async () => {
    const put = await t.request(operator, {
      method: 'PUT',
      url: url(),
      payload: {
        legacyUrl: legacy,
        legacyHost: 'etax.egis.gov.hk',
        percent: 10,
        newPaths: ['/forms'],
        sticky: true,
      },
    });
    assert.equal(put.statusCode, 200, put.body);
    assert.equal(put.json().percent, 10);
    assert.equal(put.json().service, `${dept}/etax`);
    const read = await t.request(deptAdmin, { method: 'GET', url: url() });
    assert.equal(read.statusCode, 200, read.body);
    assert.deepEqual(read.json().newPaths, ['/forms']);
    const audit = await t.db
      .selectFrom('audit_log')
      .select(['action', 'actor_name'])
      .where('target_type', '=', 'cutover')
      .execute();
    assert.ok(
      audit.some((a) => a.action === 'cutover.set'),
      JSON.stringify(audit),
    );
  });

  it('shifts and falls back, each audited; the route table gets the share', async () => {
    const shift = await t.request(operator, {
      method: 'POST',
      url: `${url()}/shift`,
      payload: { percent: 50 },
    });
    assert.equal(shift.statusCode, 200, shift.body);
    assert.equal(shift.json().percent, 50);
    let routed = await routedCutovers(t, () => assert.fail('nothing refused'));
    assert.equal([...routed.values()][0]?.percent, 50);
    const back = await t.request(operator, { method: 'POST', url: `${url()}/back` });
    assert.equal(back.statusCode, 200, back.body);
    assert.equal(back.json().percent, 0);
    routed = await routedCutovers(t, () => assert.fail('nothing refused'));
    assert.deepEqual([...routed.values()][0], {
      legacyUrl: legacy,
      legacyHost: 'etax.egis.gov.hk',
      percent: 0,
      newPaths: ['/forms'],
      sticky: true,
    });
    const actions = (
      await t.db.selectFrom('audit_log').select('action').where('target_type', '=', 'cutover').execute()
    ).map((a) => a.action);
    assert.ok(actions.includes('cutover.shift') && actions.includes('cutover.back'), actions.join());
  });

  it('refuses a department user (403) and hides another department’s service (404)', async () => {
    const set = await t.request(deptAdmin, { method: 'PUT', url: url(), payload: { legacyUrl: legacy } });
    assert.equal(set.statusCode, 403, set.body);
    const shift = await t.request(deptAdmin, {
      method: 'POST',
      url: `${url()}/shift`,
      payload: { percent: 100 },
    });
    assert.equal(shift.statusCode, 403, shift.body);
    const back = await t.request(deptAdmin, { method: 'POST', url: `${url()}/back` });
    assert.equal(back.statusCode, 403, back.body);
    for (const path of [url(), `${url()}/compare`]) {
      const peek = await t.request(outsider, { method: 'GET', url: path });
      assert.equal(peek.statusCode, 404, peek.body);
    }
  });

  it('refuses an upstream the allow-list does not name, and the platform’s own ports, with a 422', async () => {
    for (const [legacyUrl, why] of [
      ['http://10.9.8.7:8080', 'GOVHOST_LEGACY_ALLOW'],
      ['http://127.0.0.2:8080', 'GOVHOST_LEGACY_ALLOW'],
      ['http://127.0.0.1:18443', "platform's own ports"],
      ['http://127.0.0.1:18081', "platform's own ports"],
    ] as const) {
      const res = await t.request(operator, { method: 'PUT', url: url(other), payload: { legacyUrl } });
      assert.equal(res.statusCode, 422, `${legacyUrl}: ${res.body}`);
      assert.equal(res.json().code, 'GOVHOST_LEGACY_FORBIDDEN');
      assert.ok(res.json().detail.includes(why), res.body);
    }
    // A listed host name needs no look-up.
    const named = await t.request(operator, {
      method: 'PUT',
      url: url(other),
      payload: { legacyUrl: 'https://egis.internal' },
    });
    assert.equal(named.statusCode, 200, named.body);
  });

  it('names what is wrong in a cut-over, and a shift of a service without one is 404', async () => {
    const bad = await t.request(operator, {
      method: 'PUT',
      url: url(),
      payload: { legacyUrl: 'http://127.0.0.1:18080/app', newPaths: ['forms'] },
    });
    assert.equal(bad.statusCode, 422, bad.body);
    assert.match(bad.json().detail, /legacyUrl: must be http\(s\):\/\/host\[:port\] with no path/);
    assert.match(bad.json().detail, /newPaths\[0\]/);
    const range = await t.request(operator, {
      method: 'POST',
      url: `${url()}/shift`,
      payload: { percent: 101 },
    });
    assert.equal(range.statusCode, 400, range.body);
    await t.request(operator, { method: 'DELETE', url: url(other) });
    const none = await t.request(operator, {
      method: 'POST',
      url: `${url(other)}/shift`,
      payload: { percent: 10 },
    });
    assert.equal(none.statusCode, 404, none.body);
    assert.equal(none.json().code, 'GOVHOST_CUTOVER_NOT_FOUND');
  });

  it('leaves a cut-over out of the routes once the allow-list no longer names it, and says so', async () => {
    const refused: string[] = [];
    const routed = await routedCutovers({ db: t.db, config: { ...t.config, legacyAllow: [] } }, (key, why) =>
      refused.push(`${key}: ${why}`),
    );
    assert.equal(routed.size, 0);
    assert.equal(refused.length, 1);
    assert.match(refused[0]!, /GOVHOST_LEGACY_ALLOW/);
  });
});
