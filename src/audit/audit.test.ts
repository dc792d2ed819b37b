import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { type TestApp, testApp } from '../test-support/app.ts';

describe('audit trail', () => {
  let t: TestApp;
  let dept: string;
  const verify = async () =>
    (await t.request(t.adminToken, { method: 'POST', url: '/api/v1/audit/verify' })).json();

  before(async () => {
    t = await testApp();
    dept = await t.department('AUD');
    for (const slug of ['one', 'two', 'three']) {
      const res = await t.request(t.adminToken, {
        method: 'POST',
        url: '/api/v1/services',
        payload: {
          department: dept,
          slug,
          nameEn: slug,
          nameZh: slug,
          origin: 'new',
          channels: ['web'],
          slaTier: 'bronze',
        },
      });
      assert.equal(res.statusCode, 201);
    }
    await t.request(t.adminToken, {
      method: 'PATCH',
      url: `/api/v1/services/${dept}/two`,
      payload: { nameEn: 'Two' },
    });
  });
  after(() => t.close());

  it('records who changed what, before and after, with the request id', async () => {
    const res = await t.request(t.adminToken, {
      method: 'PATCH',
      url: `/api/v1/services/${dept}/one`,
      payload: { description: 'first' },
      headers: { 'x-request-id': 'req-audit-0001' },
    });
    assert.equal(res.headers['x-request-id'], 'req-audit-0001');
    const [last] = (await t.request(t.adminToken, { method: 'GET', url: '/api/v1/audit?limit=1' })).json()
      .items;
    assert.equal(last.action, 'service.update');
    assert.equal(last.actor, 'admin');
    assert.equal(last.department, dept);
    assert.equal(last.targetId, `${dept}/one`);
    assert.equal(last.before.description, '');
    assert.equal(last.after.description, 'first');
    assert.equal(last.requestId, 'req-audit-0001');
  });

  it('pages through the log newest first', async () => {
    const first = (await t.request(t.adminToken, { method: 'GET', url: '/api/v1/audit?limit=2' })).json();
    assert.equal(first.items.length, 2);
    const next = (
      await t.request(t.adminToken, {
        method: 'GET',
        url: `/api/v1/audit?limit=2&before=${first.nextBefore}`,
      })
    ).json();
    assert.ok(next.items[0].seq < first.items[1].seq);
  });

  it('shows a department admin only its department records, and a developer none', async () => {
    const other = await t.department('AUX');
    const admin = await t.user('dept-admin', other);
    const items = (await t.request(admin.token, { method: 'GET', url: '/api/v1/audit?limit=500' })).json()
      .items;
    assert.ok(items.length > 0);
    assert.ok(items.every((r: { department: string }) => r.department === other));
    const dev = await t.user('dept-developer', other);
    assert.equal((await t.request(dev.token, { method: 'GET', url: '/api/v1/audit' })).statusCode, 403);
  });

  it('verifies an untouched chain', async () => {
    const v = await verify();
    assert.equal(v.ok, true);
    assert.ok(v.records >= 6);
    assert.match(v.headHash, /^[0-9a-f]{64}$/);
  });

  // Each case tampers the way someone with database access might, then puts the row back.
  it('detects an edited record', async () => {
    const row = await t.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'service.update')
      .executeTakeFirstOrThrow();
    await sql`update audit_log set actor_name = 'someone-else' where seq = ${row.seq}`.execute(t.db);
    const v = await verify();
    assert.equal(v.ok, false);
    assert.equal(v.brokenAtSeq, row.seq);
    assert.match(v.reason, /changed/);
    await sql`update audit_log set actor_name = ${row.actor_name} where seq = ${row.seq}`.execute(t.db);
    assert.equal((await verify()).ok, true);
  });

  it('detects an edited before/after value', async () => {
    const row = await t.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'service.create')
      .executeTakeFirstOrThrow();
    await sql`update audit_log set after = jsonb_set(after, '{slaTier}', '"gold"') where seq = ${row.seq}`.execute(
      t.db,
    );
    const v = await verify();
    assert.equal(v.ok, false);
    assert.equal(v.brokenAtSeq, row.seq);
  });

  it('detects a deleted record in the middle and at the end', async () => {
    const t2 = await testApp();
    try {
      for (const code of ['AAA', 'BBB', 'CCC']) {
        await t2.request(t2.adminToken, {
          method: 'POST',
          url: '/api/v1/departments',
          payload: { code, nameEn: code, nameZh: code },
        });
      }
      const check = async () =>
        (await t2.request(t2.adminToken, { method: 'POST', url: '/api/v1/audit/verify' })).json();
      assert.equal((await check()).ok, true);
      const rows = await t2.db.selectFrom('audit_log').select('seq').orderBy('seq').execute();
      await sql`delete from audit_log where seq = ${rows.at(-1)!.seq}`.execute(t2.db);
      const tail = await check();
      assert.equal(tail.ok, false);
      assert.match(tail.reason, /newest records were removed/);
      await sql`delete from audit_log where seq = ${rows[1]!.seq}`.execute(t2.db);
      const middle = await check();
      assert.equal(middle.ok, false);
      assert.equal(middle.brokenAtSeq, rows[2]!.seq);
    } finally {
      await t2.close();
    }
  });
});
