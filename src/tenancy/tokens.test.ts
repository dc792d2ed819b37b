import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestApp, testApp } from '../test-support/app.ts';
import { issueToken } from './token.logic.ts';

describe('tokens and login', () => {
  let t: TestApp;
  let dept: string;
  before(async () => {
    t = await testApp();
    dept = await t.department('TOK');
  });
  after(() => t.close());

  const me = (token: string) => t.request(token, { method: 'GET', url: '/api/v1/me' });

  it('refuses a request without a token, or with a malformed or unknown one', async () => {
    assert.equal((await t.request(null, { method: 'GET', url: '/api/v1/services' })).statusCode, 401);
    const basic = await t.request(null, {
      method: 'GET',
      url: '/api/v1/me',
      headers: { authorization: 'Basic YTpi' },
    });
    assert.equal(basic.statusCode, 401);
    assert.equal((await me('ghk_not-a-real-token')).statusCode, 401);
  });

  it('refuses a revoked token', async () => {
    const dev = await t.user('dept-developer', dept);
    assert.equal((await me(dev.token)).statusCode, 200);
    const [token] = (await t.request(dev.token, { method: 'GET', url: '/api/v1/tokens' })).json().items;
    const revoked = await t.request(dev.token, { method: 'DELETE', url: `/api/v1/tokens/${token.id}` });
    assert.equal(revoked.statusCode, 200);
    assert.equal(revoked.json().state, 'revoked');
    const res = await me(dev.token);
    assert.equal(res.statusCode, 401);
    assert.equal(res.json().code, 'GOVHOST_TOKEN_INVALID');
  });

  it('refuses an expired token', async () => {
    const dev = await t.user('dept-developer', dept);
    const user = (await t.request(dev.token, { method: 'GET', url: '/api/v1/me' })).json();
    const row = await t.db
      .selectFrom('users')
      .select('id')
      .where('username', '=', user.username)
      .executeTakeFirstOrThrow();
    const expired = await issueToken(t.db, {
      userId: row.id,
      name: 'old',
      kind: 'api',
      scope: 'write',
      ttlMs: -1000,
    });
    assert.equal((await me(expired.secret)).statusCode, 401);
    const list = (await t.request(dev.token, { method: 'GET', url: '/api/v1/tokens' })).json().items;
    assert.equal(list.find((x: { id: string }) => x.id === expired.id).state, 'expired');
  });

  it('stores only a hash of the secret', async () => {
    const created = await t.request(t.adminToken, {
      method: 'POST',
      url: '/api/v1/tokens',
      payload: { name: 'hashcheck' },
    });
    const { secret, token } = created.json();
    const row = await t.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('id', '=', token.id)
      .executeTakeFirstOrThrow();
    assert.notEqual(row.token_hash, secret);
    assert.ok(!JSON.stringify(row).includes(secret));
    assert.ok(
      !JSON.stringify(
        (await t.request(t.adminToken, { method: 'GET', url: '/api/v1/audit' })).json(),
      ).includes(secret),
    );
  });

  it('logs in with a password, and a disabled user loses every token', async () => {
    const res = await t.request(t.adminToken, {
      method: 'POST',
      url: '/api/v1/users',
      payload: {
        username: 'clerk2',
        displayName: 'Clerk',
        role: 'dept-viewer',
        department: dept,
        password: 'correct horse battery',
      },
    });
    assert.equal(res.statusCode, 201, res.body);
    const wrong = await t.request(null, {
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'clerk2', password: 'wrong password!!' },
    });
    assert.equal(wrong.statusCode, 401);
    const nobody = await t.request(null, {
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'nobody', password: 'whatever pass' },
    });
    assert.equal(nobody.statusCode, 401);
    assert.equal(nobody.json().detail, wrong.json().detail);
    const login = await t.request(null, {
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'clerk2', password: 'correct horse battery' },
    });
    assert.equal(login.statusCode, 200, login.body);
    const session = login.json().token;
    assert.equal((await me(session)).json().username, 'clerk2');
    const disable = await t.request(t.adminToken, {
      method: 'PATCH',
      url: '/api/v1/users/clerk2',
      payload: { disabled: true },
    });
    assert.equal(disable.statusCode, 200);
    assert.equal((await me(session)).statusCode, 401);
    const again = await t.request(null, {
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'clerk2', password: 'correct horse battery' },
    });
    assert.equal(again.statusCode, 401);
  });

  it('logout ends a password session but leaves an API token valid', async () => {
    const created = await t.request(t.adminToken, {
      method: 'POST',
      url: '/api/v1/users',
      payload: {
        username: 'clerk3',
        displayName: 'Clerk',
        role: 'dept-viewer',
        department: dept,
        password: 'a long pass phrase',
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    const login = await t.request(null, {
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'clerk3', password: 'a long pass phrase' },
    });
    const session = login.json().token;
    const out = await t.request(session, { method: 'POST', url: '/api/v1/auth/logout' });
    assert.deepEqual(out.json(), { revoked: true, kind: 'session' });
    assert.equal((await me(session)).statusCode, 401);
    const api = await t.user('dept-viewer', dept);
    const kept = await t.request(api.token, { method: 'POST', url: '/api/v1/auth/logout' });
    assert.deepEqual(kept.json(), { revoked: false, kind: 'api' });
    assert.equal((await me(api.token)).statusCode, 200);
  });

  it('a developer cannot revoke a colleague token but its department admin can', async () => {
    const a = await t.user('dept-developer', dept);
    const b = await t.user('dept-developer', dept);
    const admin = await t.user('dept-admin', dept);
    const bTokens = (
      await t.request(admin.token, { method: 'GET', url: `/api/v1/tokens?user=${b.username}` })
    ).json().items;
    const id = bTokens[0].id;
    assert.equal(
      (await t.request(a.token, { method: 'DELETE', url: `/api/v1/tokens/${id}` })).statusCode,
      403,
    );
    assert.equal((await me(b.token)).statusCode, 200);
    assert.equal(
      (await t.request(admin.token, { method: 'DELETE', url: `/api/v1/tokens/${id}` })).statusCode,
      200,
    );
    assert.equal((await me(b.token)).statusCode, 401);
  });
});
