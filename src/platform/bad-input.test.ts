import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestApp, testApp } from '../test-support/app.ts';

const good = {
  slug: 'passport',
  nameEn: 'Passport application',
  nameZh: '申領護照',
  origin: 'migrated',
  egisRef: 'EGIS-042',
  channels: ['web'],
  slaTier: 'gold',
};

describe('bad input gets a 4xx problem and writes nothing', () => {
  let t: TestApp;
  let dept: string;
  let dev: { token: string };
  before(async () => {
    t = await testApp();
    dept = await t.department('BAD');
    dev = await t.user('dept-developer', dept);
  });
  after(() => t.close());

  /** Rows in the tables a bad request might have half-written. */
  async function counts() {
    const n = async (table: 'services' | 'audit_log' | 'users' | 'departments') =>
      Number(
        (
          await t.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    return {
      services: await n('services'),
      audit: await n('audit_log'),
      users: await n('users'),
      depts: await n('departments'),
    };
  }

  const post = (payload: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    t.request(dev.token, { method: 'POST', url: '/api/v1/services', payload, headers });

  const cases: [string, () => Promise<Awaited<ReturnType<typeof post>>>, number, RegExp][] = [
    [
      'an unknown field',
      () => post(JSON.stringify({ ...good, owner: 'me' })),
      400,
      /\/owner is not a known field/,
    ],
    [
      'a wrong type',
      () => post(JSON.stringify({ ...good, personalised: 'yes' })),
      400,
      /personalised must be boolean/,
    ],
    [
      'a number given as a string',
      () => post(JSON.stringify({ ...good, channels: 'web' })),
      400,
      /channels must be array/,
    ],
    [
      'a slug with spaces',
      () => post(JSON.stringify({ ...good, slug: 'pass port' })),
      400,
      /\/slug must match pattern/,
    ],
    [
      'a value outside the enum',
      () => post(JSON.stringify({ ...good, slaTier: 'platinum' })),
      400,
      /slaTier must be one of gold, silver, bronze/,
    ],
    [
      'a missing field',
      () => post(JSON.stringify({ ...good, nameZh: undefined })),
      400,
      /\/nameZh is required/,
    ],
    [
      'a NUL byte in a name',
      () => post(JSON.stringify({ ...good, nameEn: 'Pass\u0000port' })),
      400,
      /\/nameEn must not contain control characters/,
    ],
    [
      'an escape sequence in a name',
      () => post(JSON.stringify({ ...good, nameZh: '\u001b[31m護照' })),
      400,
      /\/nameZh must not contain control characters/,
    ],
    [
      'a line break in a one-line field',
      () => post(JSON.stringify({ ...good, nameEn: 'Pass\nport' })),
      400,
      /\/nameEn must not contain control characters/,
    ],
    [
      // JSON may escape half a UTF-16 pair; it has no UTF-8 form, so it would be stored as U+FFFD.
      'a lone surrogate in a name',
      () => post(JSON.stringify({ ...good, nameEn: 'Pass\ud800port' })),
      400,
      /\/nameEn must not contain a lone surrogate/,
    ],
    ['invalid JSON', () => post('{"slug": "passport",'), 400, /JSON/],
    ['an empty JSON body', () => post(''), 400, /empty|JSON/i],
    ['a JSON array', () => post('[]'), 400, /must be object/],
    [
      'a 5 MB body',
      () => post(JSON.stringify({ ...good, description: 'x'.repeat(5 * 1024 * 1024) })),
      413,
      /too large/i,
    ],
    [
      'a form body',
      () => post('slug=passport', { 'content-type': 'application/x-www-form-urlencoded' }),
      415,
      /media type|Content-Type/i,
    ],
  ];

  for (const [what, send, status, detail] of cases) {
    it(`rejects ${what}`, async () => {
      const before = await counts();
      const res = await send();
      assert.equal(res.statusCode, status, res.body);
      assert.match(res.headers['content-type'] as string, /^application\/problem\+json/);
      const problem = res.json();
      assert.equal(problem.status, status);
      assert.match(problem.type, /^urn:govhost:problem:/);
      assert.match(problem.code, /^GOVHOST_/);
      assert.match(problem.detail, detail);
      assert.doesNotMatch(res.body, /at .*\.ts:\d+/, 'no stack trace');
      assert.deepEqual(await counts(), before);
    });
  }

  it('rejects a bad query parameter and a bad path parameter', async () => {
    const q = await t.request(dev.token, { method: 'GET', url: '/api/v1/services?limit=100000' });
    assert.equal(q.statusCode, 400);
    assert.match(q.json().detail, /querystring\/limit/);
    const p = await t.request(dev.token, { method: 'DELETE', url: '/api/v1/tokens/not-a-uuid' });
    assert.equal(p.statusCode, 400);
    assert.match(p.json().detail, /params\/id/);
  });

  it('keeps line breaks in multi-line text, and refuses other control characters there', async () => {
    const ok = await post(
      JSON.stringify({ ...good, slug: 'multi-line', description: 'line one\nline two\ttab' }),
    );
    assert.equal(ok.statusCode, 201, ok.body);
    const bad = await post(JSON.stringify({ ...good, slug: 'nul-desc', description: 'a\u0000b' }));
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().detail, /\/description must not contain control characters/);
  });

  it('refuses a NUL byte in a query string, a hosting request, a null or NUL env value, a version past 2^31', async () => {
    const before = await counts();
    const q = await t.request(dev.token, { method: 'GET', url: '/api/v1/audit?actor=a%00b' });
    assert.ok(q.statusCode === 400 || q.statusCode === 403, q.body);
    const req = await t.request(dev.token, {
      method: 'POST',
      url: '/api/v1/requests',
      payload: {
        slug: 'nul-req',
        nameEn: 'N\u0000',
        nameZh: '名',
        slaTier: 'bronze',
        instances: 1,
        memoryMb: 128,
      },
    });
    assert.equal(req.statusCode, 400, req.body);
    assert.match(req.json().detail, /nameEn must not contain control characters/);
    const svc = await post(JSON.stringify({ ...good, slug: 'env-target' }));
    assert.equal(svc.statusCode, 201, svc.body);
    const at = `/api/v1/services/${dept}/env-target`;
    for (const set of [{ A: null }, { A: 'x\u0000y' }]) {
      const env = await t.request(dev.token, { method: 'PATCH', url: `${at}/env`, payload: { set } });
      assert.equal(env.statusCode, 400, env.body);
      assert.match(env.json().detail, /\/set\/A/);
    }
    const rb = await t.request(dev.token, {
      method: 'POST',
      url: `${at}/rollback`,
      payload: { to: 2 ** 31 },
    });
    assert.equal(rb.statusCode, 400, rb.body);
    assert.match(rb.json().detail, /\/to must be <= 2147483647/);
    const after = await counts();
    assert.equal(after.services, before.services + 1);
  });

  it('answers a path the router cannot read with a 400 problem, and reads a 200-character subject', async () => {
    // Found by the API fuzzer: Fastify answered these with JSON of its own (a 414, a 400).
    for (const [method, url] of [
      ['GET', '/api/v1/users/%E0%A4%A'],
      ['DELETE', `/api/v1/sign-in/throttles/user/${'x'.repeat(2100)}`],
    ] as const) {
      const res = await t.request(t.adminToken, { method, url });
      assert.equal(res.statusCode, 400, `${url.slice(0, 60)}: ${res.body.slice(0, 300)}`);
      assert.match(res.headers['content-type'] as string, /^application\/problem\+json/);
      assert.equal(res.json().code, 'GOVHOST_BAD_REQUEST');
    }
    // The longest subject the schema allows, even in Chinese, reaches the logic: no throttle to clear.
    const subject = encodeURIComponent('試'.repeat(200));
    const res = await t.request(t.adminToken, {
      method: 'DELETE',
      url: `/api/v1/sign-in/throttles/user/${subject}`,
    });
    assert.equal(res.statusCode, 404, res.body);
    assert.equal(res.json().code, 'GOVHOST_SIGN_IN_NOT_LOCKED');
  });

  it('answers an unknown endpoint with a 404 problem', async () => {
    const res = await t.request(dev.token, { method: 'GET', url: '/api/v1/nowhere' });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().code, 'GOVHOST_ROUTE_NOT_FOUND');
  });

  it('refuses a duplicate slug with 409 and one audit record for the first', async () => {
    const before = await counts();
    const first = await post(JSON.stringify(good));
    assert.equal(first.statusCode, 201, first.body);
    const second = await post(JSON.stringify(good));
    assert.equal(second.statusCode, 409);
    assert.equal(second.json().code, 'GOVHOST_SERVICE_EXISTS');
    const afterCounts = await counts();
    assert.equal(afterCounts.services, before.services + 1);
    assert.equal(afterCounts.audit, before.audit + 1);
  });
});
