// GET /services/:department/:slug/deployments: a service's deploy history, paged, newest first,
// scoped to the caller's department. It reads the database only, so the API-only test app answers it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { insertDeployment } from '../catalog/release.repository.ts';
import { type TestApp, testApp } from '../test-support/app.ts';

let t: TestApp;
let dept: string;
let other: string;
let viewer: string;
let outsider: string;
const service = { origin: 'new', channels: ['web'], slaTier: 'silver' };

async function createService(department: string, slug: string): Promise<string> {
  const res = await t.request(t.adminToken, {
    method: 'POST',
    url: '/api/v1/services',
    payload: { department, slug, nameEn: slug, nameZh: slug, ...service },
  });
  assert.equal(res.statusCode, 201, res.body);
  const row = await t.db
    .selectFrom('services')
    .select('id')
    .where('slug', '=', slug)
    .executeTakeFirstOrThrow();
  return row.id;
}

const list = (token: string, path: string) =>
  t.request(token, { method: 'GET', url: `/api/v1/services/${path}` });

before(async () => {
  t = await testApp();
  dept = await t.department('DH');
  other = await t.department('DO');
  viewer = (await t.user('dept-viewer', dept, 'read')).token;
  outsider = (await t.user('dept-admin', other)).token;
  const id = await createService(dept, 'history');
  await createService(other, 'elsewhere');
  // Three deployments a minute apart, so that "newest first" does not hang on clock resolution.
  const kinds = ['deploy', 'env', 'scale'];
  for (const [i, kind] of kinds.entries()) {
    const d = await insertDeployment(t.db, {
      service_id: id,
      release_id: null,
      kind,
      created_by: 'admin',
      message: `${kind} ${i}`,
    });
    await sql`update deployments set started_at = ${new Date(Date.UTC(2026, 0, 1, 10, i))} where id = ${d.id}`.execute(
      t.db,
    );
  }
});
after(() => t.close());

describe('deploy history', () => {
  it('lists a service’s deployments newest first, a page at a time', async () => {
    const all = await list(viewer, `${dept}/history/deployments`);
    assert.equal(all.statusCode, 200, all.body);
    const body = all.json();
    assert.equal(body.total, 3);
    assert.deepEqual(
      body.items.map((d: { kind: string }) => d.kind),
      ['scale', 'env', 'deploy'],
    );
    assert.equal(body.items[0].startedAt, '2026-01-01T10:02:00.000Z');
    assert.equal(body.items[0].release, null);

    const second = (await list(viewer, `${dept}/history/deployments?limit=1&offset=1`)).json();
    assert.deepEqual(
      {
        total: second.total,
        limit: second.limit,
        offset: second.offset,
        kinds: second.items.map((d: { kind: string }) => d.kind),
      },
      { total: 3, limit: 1, offset: 1, kinds: ['env'] },
    );
  });

  it('another department sees no such service (404), and bad paging is a 400 problem', async () => {
    const hidden = await list(outsider, `${dept}/history/deployments`);
    assert.equal(hidden.statusCode, 404, hidden.body);
    assert.equal(await list(outsider, `${other}/elsewhere/deployments`).then((r) => r.json().total), 0);
    const bad = await list(viewer, `${dept}/history/deployments?limit=0`);
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().code, 'GOVHOST_VALIDATION');
    const anonymous = await t.request(null, {
      method: 'GET',
      url: `/api/v1/services/${dept}/history/deployments`,
    });
    assert.equal(anonymous.statusCode, 401);
  });
});
