// The console's language as a preference of the user, kept on the server (PATCH /me, GET /me).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestApp, testApp } from '../test-support/app.ts';

let t: TestApp;

before(async () => {
  t = await testApp();
});
after(() => t.close());

const me = (token: string) => t.request(token, { method: 'GET', url: '/api/v1/me' });
const patch = (token: string, payload: unknown) =>
  t.request(token, { method: 'PATCH', url: '/api/v1/me', payload: payload as Record<string, unknown> });

describe('locale preference', () => {
  it('is null until chosen, then follows the user to every token, and is audited', async () => {
    const dept = await t.department('LC');
    const user = await t.user('dept-viewer', dept);
    assert.equal((await me(user.token)).json().locale, null);

    const set = await patch(user.token, { locale: 'zh-Hant' });
    assert.equal(set.statusCode, 200, set.body);
    assert.equal(set.json().locale, 'zh-Hant');
    assert.equal(set.json().username, user.username);

    // A new token of the same user (a new sign-in elsewhere) sees the same choice.
    const other = await t.request(user.token, {
      method: 'POST',
      url: '/api/v1/tokens',
      payload: { name: 'second browser', scope: 'read' },
    });
    assert.equal(other.statusCode, 201, other.body);
    assert.equal((await me(other.json().secret)).json().locale, 'zh-Hant');

    // Another user's preference is their own.
    const neighbour = await t.user('dept-viewer', dept);
    assert.equal((await me(neighbour.token)).json().locale, null);

    const audit = await t.request(t.adminToken, { method: 'GET', url: '/api/v1/audit?limit=500' });
    const rec = (audit.json().items as { action: string; targetId: string; actor: string }[]).find(
      (r) => r.action === 'user.update-locale' && r.targetId === user.username,
    );
    assert.ok(rec, 'the change is in the audit log');
    assert.equal(rec.actor, user.username);

    // Back to English.
    assert.equal((await patch(user.token, { locale: 'en' })).json().locale, 'en');
    assert.equal((await me(user.token)).json().locale, 'en');
  });

  it('refuses an unknown language, extra fields, read-only tokens and anonymous callers', async () => {
    const user = await t.user('operator');
    const bad = await patch(user.token, { locale: 'fr' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().code, 'GOVHOST_VALIDATION');
    assert.equal((await patch(user.token, { locale: 'en', role: 'platform-admin' })).statusCode, 400);
    assert.equal((await patch(user.token, {})).statusCode, 400);

    const reader = await t.user('operator', undefined, 'read');
    const ro = await patch(reader.token, { locale: 'en' });
    assert.equal(ro.statusCode, 403);
    assert.equal(ro.json().code, 'GOVHOST_FORBIDDEN');
    assert.equal((await me(reader.token)).json().locale, null, 'nothing was written');

    assert.equal(
      (await t.request(null, { method: 'PATCH', url: '/api/v1/me', payload: { locale: 'en' } })).statusCode,
      401,
    );
    assert.equal((await me(user.token)).json().locale, null);
  });
});
