import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestApp, testApp } from '../test-support/app.ts';

describe('audit trail filters', () => {
  let t: TestApp;
  let a: string;
  let b: string;
  let adminA: { username: string; token: string };
  let start: string;
  const records = async (token: string, query: string) => {
    const res = await t.request(token, { method: 'GET', url: `/api/v1/audit?limit=500&${query}` });
    assert.equal(res.statusCode, 200, res.body);
    return res.json().items as {
      action: string;
      actor: string;
      department: string | null;
      targetId: string;
    }[];
  };
  const service = (token: string, department: string, slug: string) =>
    t.request(token, {
      method: 'POST',
      url: '/api/v1/services',
      payload: {
        department,
        slug,
        nameEn: slug,
        nameZh: slug,
        origin: 'new',
        channels: ['web'],
        slaTier: 'bronze',
      },
    });

  before(async () => {
    t = await testApp();
    start = new Date().toISOString();
    a = await t.department('AUA');
    b = await t.department('AUB');
    adminA = await t.user('dept-admin', a);
    assert.equal((await service(adminA.token, a, 'alpha')).statusCode, 201);
    assert.equal((await service(t.adminToken, b, 'beta')).statusCode, 201);
  });
  after(() => t.close());

  it('narrows by action, family of actions, actor, department, target and time', async () => {
    const created = await records(t.adminToken, 'action=service.create');
    assert.deepEqual(created.map((r) => r.targetId).sort(), [`${a}/alpha`, `${b}/beta`]);
    const family = await records(t.adminToken, 'action=department.');
    assert.ok(
      family.length >= 2 && family.every((r) => r.action.startsWith('department.')),
      JSON.stringify(family),
    );
    // The LIKE wildcards in a family are taken literally: `_` matches no other character.
    assert.deepEqual(await records(t.adminToken, 'action=service_'), []);
    const byActor = await records(t.adminToken, `actor=${adminA.username}`);
    assert.deepEqual(
      byActor.map((r) => r.action),
      ['service.create'],
    );
    const inB = await records(t.adminToken, `department=${b}`);
    assert.ok(inB.length > 0 && inB.every((r) => r.department === b), JSON.stringify(inB));
    assert.deepEqual(
      (await records(t.adminToken, `target=${a}/alpha`)).map((r) => r.action),
      ['service.create'],
    );
    assert.equal((await records(t.adminToken, `until=${start}&department=${a}`)).length, 0);
    assert.ok((await records(t.adminToken, `since=${start}&department=${a}`)).length > 0);
  });

  it("keeps a department admin to its own department's records", async () => {
    const own = await records(adminA.token, 'action=service.create');
    assert.deepEqual(
      own.map((r) => r.targetId),
      [`${a}/alpha`],
    );
    const other = await t.request(adminA.token, { method: 'GET', url: `/api/v1/audit?department=${b}` });
    assert.equal(other.statusCode, 404, other.body);
  });

  it('refuses malformed filters with a 400', async () => {
    for (const q of ['since=yesterday', 'department=not a code', 'action=']) {
      const res = await t.request(t.adminToken, { method: 'GET', url: `/api/v1/audit?${q}` });
      assert.equal(res.statusCode, 400, `${q}: ${res.body}`);
      assert.equal(res.json().code, 'GOVHOST_VALIDATION');
    }
  });
});
