import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestApp, testApp } from '../test-support/app.ts';

const service = (slug: string) => ({
  slug,
  nameEn: `Service ${slug}`,
  nameZh: `服務 ${slug}`,
  origin: 'new',
  channels: ['web'],
  slaTier: 'silver',
});

describe('one department cannot see or touch another department', () => {
  let t: TestApp;
  let ours: string;
  let theirs: string;
  let dev: { username: string; token: string };
  let other: { username: string; token: string };
  let otherTokenId: string;

  before(async () => {
    t = await testApp();
    ours = await t.department('OUR');
    theirs = await t.department('THR');
    dev = await t.user('dept-developer', ours);
    other = await t.user('dept-admin', theirs);
    const res = await t.request(other.token, {
      method: 'POST',
      url: '/api/v1/services',
      payload: service('secret-svc'),
    });
    assert.equal(res.statusCode, 201, res.body);
    const tokens = await t.request(other.token, { method: 'GET', url: '/api/v1/tokens' });
    otherTokenId = tokens.json().items[0].id;
  });
  after(() => t.close());

  it('lists only its own department, services and users', async () => {
    const depts = (await t.request(dev.token, { method: 'GET', url: '/api/v1/departments' })).json();
    assert.deepEqual(
      depts.items.map((d: { code: string }) => d.code),
      [ours],
    );
    const svcs = (await t.request(dev.token, { method: 'GET', url: '/api/v1/services' })).json();
    assert.equal(svcs.total, 0);
    const users = (await t.request(dev.token, { method: 'GET', url: '/api/v1/users' })).json();
    assert.deepEqual(
      users.items.map((u: { username: string }) => u.username),
      [dev.username],
    );
  });

  const cases: [string, string, () => object | undefined][] = [
    ['GET', '/api/v1/departments/THEIRS', () => undefined],
    ['PATCH', '/api/v1/departments/THEIRS', () => ({ nameEn: 'x' })],
    ['DELETE', '/api/v1/departments/THEIRS', () => undefined],
    ['GET', '/api/v1/services/THEIRS/secret-svc', () => undefined],
    ['PATCH', '/api/v1/services/THEIRS/secret-svc', () => ({ nameEn: 'hijacked' })],
    ['DELETE', '/api/v1/services/THEIRS/secret-svc', () => undefined],
    ['GET', '/api/v1/services?department=THEIRS', () => undefined],
    ['POST', '/api/v1/services', () => ({ ...service('planted'), department: 'THEIRS' })],
    ['GET', '/api/v1/users/OTHER', () => undefined],
    ['PATCH', '/api/v1/users/OTHER', () => ({ displayName: 'x' })],
    ['GET', '/api/v1/users?department=THEIRS', () => undefined],
    [
      'POST',
      '/api/v1/users',
      () => ({ username: 'planted', displayName: 'x', role: 'dept-viewer', department: 'THEIRS' }),
    ],
    ['GET', '/api/v1/tokens?user=OTHER', () => undefined],
    ['POST', '/api/v1/tokens', () => ({ name: 'x', user: 'OTHER' })],
    ['DELETE', '/api/v1/tokens/TOKEN', () => undefined],
  ];
  for (const [method, path, body] of cases) {
    it(`gets 404 for ${method} ${path}`, async () => {
      const url = path
        .replace('THEIRS', theirs)
        .replace('OTHER', other.username)
        .replace('TOKEN', otherTokenId);
      const payload = body();
      const json = payload
        ? JSON.parse(JSON.stringify(payload).replace('THEIRS', theirs).replace('OTHER', other.username))
        : undefined;
      const res = await t.request(dev.token, {
        method: method as 'GET',
        url,
        ...(json ? { payload: json } : {}),
      });
      assert.equal(res.statusCode, 404, `${method} ${url}: ${res.body}`);
      assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
    });
  }

  it('left the other department untouched', async () => {
    const res = await t.request(other.token, { method: 'GET', url: `/api/v1/services/${theirs}/secret-svc` });
    assert.equal(res.json().nameEn, 'Service secret-svc');
    const users = await t.request(t.adminToken, { method: 'GET', url: `/api/v1/users?department=${theirs}` });
    assert.deepEqual(
      users.json().items.map((u: { username: string }) => u.username),
      [other.username],
    );
    const tokens = await t.request(other.token, { method: 'GET', url: '/api/v1/tokens' });
    assert.equal(tokens.json().items[0].state, 'active');
  });
});
