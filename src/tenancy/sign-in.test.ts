import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { buildApp } from '../server/app.ts';
import { type TestApp, testApp } from '../test-support/app.ts';

describe('sign-in throttling', () => {
  let t: TestApp;
  let operator: string;
  let lastHost = 0;
  /** A new client address for each call, unless one is given: keeps the per-address count out of the way. */
  const fresh = () => `198.51.100.${++lastHost}`;

  const signIn = (username: string, password: string, address = fresh()) =>
    t.request(null, {
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username, password },
      remoteAddress: address,
    });
  const throttleRow = (kind: string, subject: string) =>
    t.db
      .selectFrom('sign_in_throttle')
      .selectAll()
      .where('kind', '=', kind as 'user')
      .where('subject', '=', subject)
      .executeTakeFirst();
  /** Lets the running delay of a subject end, as waiting would. */
  const waitOut = (subject: string) =>
    sql`update sign_in_throttle set blocked_until = now() - interval '1 second' where subject = ${subject}`.execute(
      t.db,
    );
  const audited = async (action: string, target: string) =>
    (
      await t.request(t.adminToken, {
        method: 'GET',
        url: `/api/v1/audit?action=${action}&target=${encodeURIComponent(target)}`,
      })
    ).json().items;

  async function makeUser(username: string) {
    const res = await t.request(t.adminToken, {
      method: 'POST',
      url: '/api/v1/users',
      payload: { username, displayName: username, role: 'operator', password: 'right-password-1' },
    });
    assert.equal(res.statusCode, 201, res.body);
  }

  before(async () => {
    t = await testApp();
    operator = (await t.user('operator')).token;
    for (const u of ['alice', 'bob', 'carol']) await makeUser(u);
  });
  after(() => t.close());

  it('delays after three failures with 429 and Retry-After, then doubles the delay, then locks', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await signIn('alice', 'wrong')).statusCode, 401);
    // Even the right password is not checked while the delay runs.
    const delayed = await signIn('alice', 'right-password-1');
    assert.equal(delayed.statusCode, 429);
    assert.equal(delayed.headers['retry-after'], '1');
    assert.equal(delayed.json().code, 'GOVHOST_SIGN_IN_THROTTLED');
    assert.equal((await throttleRow('user', 'alice'))?.failures, 3, 'a refused attempt is not counted');

    const delays: number[] = [];
    for (let failures = 4; failures <= 9; failures++) {
      await waitOut('alice');
      assert.equal((await signIn('alice', 'wrong')).statusCode, 401);
      const row = (await throttleRow('user', 'alice'))!;
      delays.push(row.blocked_until!.getTime() - row.last_failure_at.getTime());
    }
    assert.deepEqual(delays, [2000, 4000, 8000, 16000, 30000, 30000]);
    await waitOut('alice');
    assert.equal((await signIn('alice', 'wrong')).statusCode, 401);
    await waitOut('alice');
    const locked = await signIn('alice', 'right-password-1');
    assert.equal(locked.statusCode, 423);
    assert.equal(locked.json().code, 'GOVHOST_SIGN_IN_LOCKED');
    const retry = Number(locked.headers['retry-after']);
    assert.ok(retry > 800 && retry <= 900, `Retry-After ${retry}`);

    assert.equal((await audited('sign-in.delay', 'alice')).length, 7);
    const [lock] = await audited('sign-in.lock', 'alice');
    assert.equal(lock.targetType, 'user');
    assert.equal(lock.after.failures, 10);
  });

  it('keeps the count in the store, where another control-plane process sees it', async () => {
    const other = await buildApp(t.deps, { logger: false });
    try {
      const res = await other.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'alice', password: 'right-password-1' },
        remoteAddress: fresh(),
      });
      assert.equal(res.statusCode, 423);
    } finally {
      await other.close();
    }
  });

  it('shows locks and recent failures to operators only, and lets them unlock', async () => {
    const list = await t.request(operator, { method: 'GET', url: '/api/v1/sign-in/throttles' });
    assert.equal(list.statusCode, 200);
    const alice = list.json().items.find((i: { subject: string }) => i.subject === 'alice');
    assert.equal(alice.state, 'locked');
    assert.equal(alice.failures, 10);
    const dept = await t.department('SIG');
    const deptAdmin = await t.user('dept-admin', dept);
    for (const req of [
      { method: 'GET' as const, url: '/api/v1/sign-in/throttles' },
      { method: 'DELETE' as const, url: '/api/v1/sign-in/throttles/user/alice' },
    ]) {
      assert.equal((await t.request(deptAdmin.token, req)).statusCode, 403);
    }

    const unlock = await t.request(operator, {
      method: 'DELETE',
      url: '/api/v1/sign-in/throttles/user/alice',
    });
    assert.equal(unlock.statusCode, 200, unlock.body);
    assert.equal((await signIn('alice', 'right-password-1')).statusCode, 200);
    assert.equal((await audited('sign-in.unlock', 'alice')).length, 1);
    const again = await t.request(operator, {
      method: 'DELETE',
      url: '/api/v1/sign-in/throttles/user/alice',
    });
    assert.equal(again.statusCode, 404);
    assert.equal(again.json().code, 'GOVHOST_SIGN_IN_NOT_LOCKED');
  });

  it("resets the user's count on a successful sign-in", async () => {
    for (let i = 0; i < 2; i++) assert.equal((await signIn('bob', 'wrong')).statusCode, 401);
    assert.equal((await signIn('bob', 'right-password-1')).statusCode, 200);
    assert.equal(await throttleRow('user', 'bob'), undefined);
    for (let i = 0; i < 2; i++) assert.equal((await signIn('bob', 'wrong')).statusCode, 401);
    assert.equal(
      (await signIn('bob', 'right-password-1')).statusCode,
      200,
      'four failures, but never three in a row',
    );
  });

  it('limits one address trying many user names, whether or not they exist', async () => {
    const address = '203.0.113.50';
    for (let i = 0; i < 10; i++) assert.equal((await signIn(`nobody${i}`, 'guess', address)).statusCode, 401);
    const fromThere = await signIn('carol', 'right-password-1', address);
    assert.equal(fromThere.statusCode, 429);
    assert.equal(fromThere.headers['retry-after'], '1');
    assert.equal(
      (await signIn('carol', 'right-password-1')).statusCode,
      200,
      'carol from elsewhere is not held up',
    );
    const [delay] = await audited('sign-in.delay', address);
    assert.equal(delay.targetType, 'address');
    assert.equal(delay.after.failures, 10);
  });
});
