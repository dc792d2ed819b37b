import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestApp, testApp } from '../test-support/app.ts';

const newService = (slug: string) => ({
  slug,
  nameEn: 'Clinic booking',
  nameZh: '診所預約',
  origin: 'new',
  channels: ['web', 'mobile'],
  personalised: true,
  slaTier: 'gold',
});

describe('roles', () => {
  let t: TestApp;
  let dept: string;
  before(async () => {
    t = await testApp();
    dept = await t.department('ROL');
    const admin = await t.user('dept-admin', dept);
    const res = await t.request(admin.token, {
      method: 'POST',
      url: '/api/v1/services',
      payload: newService('booking'),
    });
    assert.equal(res.statusCode, 201, res.body);
  });
  after(() => t.close());

  it('a dept-viewer reads but cannot write', async () => {
    const viewer = await t.user('dept-viewer', dept);
    const read = await t.request(viewer.token, { method: 'GET', url: `/api/v1/services/${dept}/booking` });
    assert.equal(read.statusCode, 200);
    const writes = [
      { method: 'POST', url: '/api/v1/services', payload: newService('other') },
      { method: 'PATCH', url: `/api/v1/services/${dept}/booking`, payload: { nameEn: 'x' } },
      { method: 'DELETE', url: `/api/v1/services/${dept}/booking` },
      {
        method: 'POST',
        url: '/api/v1/users',
        payload: { username: 'newbie', displayName: 'n', role: 'dept-viewer' },
      },
      { method: 'PATCH', url: `/api/v1/departments/${dept}`, payload: { nameEn: 'x' } },
    ] as const;
    for (const w of writes) {
      const res = await t.request(viewer.token, w);
      assert.equal(res.statusCode, 403, `${w.method} ${w.url}: ${res.body}`);
      assert.equal(res.json().code, 'GOVHOST_FORBIDDEN');
    }
    const svc = await t.request(viewer.token, { method: 'GET', url: `/api/v1/services/${dept}/booking` });
    assert.equal(svc.json().nameEn, 'Clinic booking');
  });

  it('a read-only token cannot write, even for a developer', async () => {
    const dev = await t.user('dept-developer', dept, 'read');
    const res = await t.request(dev.token, {
      method: 'POST',
      url: '/api/v1/services',
      payload: newService('ro'),
    });
    assert.equal(res.statusCode, 403);
    assert.match(res.json().detail, /read-only/);
  });

  it('a dept-developer registers services in its own department by default', async () => {
    const dev = await t.user('dept-developer', dept);
    const res = await t.request(dev.token, {
      method: 'POST',
      url: '/api/v1/services',
      payload: newService('mobile-app'),
    });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json().department, dept);
    assert.equal(res.json().hostname, `mobile-app.${dept.toLowerCase()}.localhost`);
    assert.equal(res.json().slaTarget, 99.95);
  });

  it('a dept-admin gives department roles only, in its own department', async () => {
    const admin = await t.user('dept-admin', dept);
    const ok = await t.request(admin.token, {
      method: 'POST',
      url: '/api/v1/users',
      payload: { username: 'clerk1', displayName: 'Clerk', role: 'dept-viewer' },
    });
    assert.equal(ok.statusCode, 201, ok.body);
    assert.equal(ok.json().department, dept);
    const bad = await t.request(admin.token, {
      method: 'POST',
      url: '/api/v1/users',
      payload: { username: 'boss1', displayName: 'Boss', role: 'platform-admin' },
    });
    assert.equal(bad.statusCode, 422);
    const promote = await t.request(admin.token, {
      method: 'PATCH',
      url: '/api/v1/users/clerk1',
      payload: { role: 'operator' },
    });
    assert.equal(promote.statusCode, 422);
  });

  it('department roles need a department and platform roles take none', async () => {
    const a = await t.request(t.adminToken, {
      method: 'POST',
      url: '/api/v1/users',
      payload: { username: 'nodept', displayName: 'x', role: 'dept-developer' },
    });
    assert.equal(a.statusCode, 400);
    const b = await t.request(t.adminToken, {
      method: 'POST',
      url: '/api/v1/users',
      payload: { username: 'opdept', displayName: 'x', role: 'operator', department: dept },
    });
    assert.equal(b.statusCode, 400);
  });

  it('the last platform-admin cannot be disabled', async () => {
    const res = await t.request(t.adminToken, {
      method: 'PATCH',
      url: '/api/v1/users/admin',
      payload: { disabled: true },
    });
    assert.equal(res.statusCode, 422);
    const me = await t.request(t.adminToken, { method: 'GET', url: '/api/v1/me' });
    assert.equal(me.statusCode, 200);
  });

  it('finance and operators read every department; finance cannot change services', async () => {
    const other = await t.department('FIN');
    const finance = await t.user('finance');
    const operator = await t.user('operator');
    for (const who of [finance, operator]) {
      const res = await t.request(who.token, { method: 'GET', url: '/api/v1/departments?limit=500' });
      const codes = res.json().items.map((d: { code: string }) => d.code);
      assert.ok(codes.includes(dept) && codes.includes(other));
    }
    const res = await t.request(finance.token, {
      method: 'PATCH',
      url: `/api/v1/services/${dept}/booking`,
      payload: { nameEn: 'x' },
    });
    assert.equal(res.statusCode, 403);
  });

  it('moves a service through its lifecycle and refuses a jump back from retired', async () => {
    const url = `/api/v1/services/${dept}/booking`;
    for (const lifecycle of ['active', 'suspended', 'active', 'retired']) {
      const res = await t.request(t.adminToken, { method: 'PATCH', url, payload: { lifecycle } });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().lifecycle, lifecycle);
    }
    const back = await t.request(t.adminToken, { method: 'PATCH', url, payload: { lifecycle: 'active' } });
    assert.equal(back.statusCode, 409);
    assert.equal(back.json().code, 'GOVHOST_LIFECYCLE_TRANSITION');
  });
});
