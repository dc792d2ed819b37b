import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { buildApp } from '../server/app.ts';
import { type TestApp, testApp } from '../test-support/app.ts';
import { CSRF_COOKIE, SESSION_COOKIE } from './session.cookies.ts';

const PASSWORD = 'correct horse battery';
const SERVICE = { origin: 'new', channels: ['web'], slaTier: 'bronze' };

/** The Set-Cookie headers of a response, by cookie name, with their attributes. */
function setCookies(res: LightMyRequestResponse): Map<string, { value: string; attrs: string[] }> {
  const raw = res.headers['set-cookie'];
  const list = Array.isArray(raw) ? raw : raw ? [raw] : [];
  const out = new Map<string, { value: string; attrs: string[] }>();
  for (const c of list) {
    const [pair = '', ...attrs] = c.split(';').map((s) => s.trim());
    const eq = pair.indexOf('=');
    out.set(pair.slice(0, eq), { value: decodeURIComponent(pair.slice(eq + 1)), attrs });
  }
  return out;
}

describe('console sessions', () => {
  let t: TestApp;
  let dept: string;
  let username: string;

  before(async () => {
    t = await testApp();
    dept = await t.department('CS');
    username = `staff${Date.now().toString(36)}`;
    const res = await t.request(t.adminToken, {
      method: 'POST',
      url: '/api/v1/users',
      payload: { username, displayName: 'Staff', role: 'dept-admin', department: dept, password: PASSWORD },
    });
    assert.equal(res.statusCode, 201, res.body);
  });
  after(() => t.close());

  async function signIn() {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/session',
      payload: { username, password: PASSWORD },
    });
    assert.equal(res.statusCode, 200, res.body);
    const cookies = setCookies(res);
    const session = cookies.get(SESSION_COOKIE);
    const csrf = cookies.get(CSRF_COOKIE);
    assert.ok(session && csrf);
    return { res, session, csrf, cookie: `${SESSION_COOKIE}=${session.value}; ${CSRF_COOKIE}=${csrf.value}` };
  }

  test('sign-in sets an HttpOnly, SameSite=Strict session cookie and a readable CSRF cookie', async () => {
    const { res, session, csrf } = await signIn();
    assert.ok(session.attrs.includes('HttpOnly'));
    assert.ok(session.attrs.includes('SameSite=Strict'));
    assert.ok(session.attrs.includes('Path=/'));
    assert.ok(
      !session.attrs.includes('Secure'),
      'plain HTTP on loopback: a Secure cookie would never come back',
    );
    assert.ok(!csrf.attrs.includes('HttpOnly'));
    assert.equal(res.json().csrfToken, csrf.value);
    assert.notEqual(csrf.value, session.value);
  });

  test('over HTTPS (behind a TLS proxy) both cookies are Secure', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/session',
      headers: { 'x-forwarded-proto': 'https' },
      payload: { username, password: PASSWORD },
    });
    assert.equal(res.statusCode, 200);
    for (const c of setCookies(res).values()) assert.ok(c.attrs.includes('Secure'));
  });

  test('the cookie authenticates reads; changes need the CSRF header', async () => {
    const { cookie, csrf } = await signIn();
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { cookie } });
    assert.equal(me.statusCode, 200, me.body);
    assert.equal(me.json().username, username);

    const create = (headers: Record<string, string>, slug: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/services',
        headers: { cookie, ...headers },
        payload: { department: dept, slug, nameEn: 'Console test', nameZh: '控制台測試', ...SERVICE },
      });
    const without = await create({}, 'no-csrf');
    assert.equal(without.statusCode, 403, without.body);
    assert.equal(without.json().code, 'GOVHOST_CSRF');
    const wrong = await create({ 'x-csrf-token': `${csrf.value.slice(0, -2)}xx` }, 'bad-csrf');
    assert.equal(wrong.statusCode, 403);
    const ok = await create({ 'x-csrf-token': csrf.value }, 'with-csrf');
    assert.equal(ok.statusCode, 201, ok.body);

    const list = await t.app.inject({ method: 'GET', url: '/api/v1/services', headers: { cookie } });
    const slugs = (list.json().items as { slug: string }[]).map((s) => s.slug);
    assert.deepEqual(slugs, ['with-csrf'], 'the refused requests wrote nothing');
  });

  test('the language chosen in one session is there in the next (PATCH /me needs the CSRF header)', async () => {
    const first = await signIn();
    const patch = (headers: Record<string, string>) =>
      t.app.inject({
        method: 'PATCH',
        url: '/api/v1/me',
        headers: { cookie: first.cookie, ...headers },
        payload: { locale: 'zh-Hant' },
      });
    const refused = await patch({});
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json().code, 'GOVHOST_CSRF');
    const ok = await patch({ 'x-csrf-token': first.csrf.value });
    assert.equal(ok.statusCode, 200, ok.body);

    const second = await signIn();
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { cookie: second.cookie } });
    assert.equal(me.json().locale, 'zh-Hant');
  });

  test('a bearer token needs no CSRF header', async () => {
    const res = await t.request(t.adminToken, {
      method: 'POST',
      url: '/api/v1/services',
      payload: { department: dept, slug: 'bearer-made', nameEn: 'Bearer', nameZh: '持有人', ...SERVICE },
    });
    assert.equal(res.statusCode, 201, res.body);
  });

  test('sign-out revokes the session and clears both cookies', async () => {
    const { cookie, csrf } = await signIn();
    const noCsrf = await t.app.inject({ method: 'DELETE', url: '/api/v1/auth/session', headers: { cookie } });
    assert.equal(noCsrf.statusCode, 403, 'sign-out is a change too: a foreign page must not force it');
    const out = await t.app.inject({
      method: 'DELETE',
      url: '/api/v1/auth/session',
      headers: { cookie, 'x-csrf-token': csrf.value },
    });
    assert.equal(out.statusCode, 204, out.body);
    for (const c of setCookies(out).values()) {
      assert.equal(c.value, '');
      assert.ok(c.attrs.includes('Max-Age=0'));
    }
    const after = await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { cookie } });
    assert.equal(after.statusCode, 401, 'the old cookie no longer works');
  });

  test('a wrong password answers 401 and sets no cookie', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/session',
      payload: { username, password: 'not the password' },
    });
    assert.equal(res.statusCode, 401);
    assert.equal(res.json().code, 'GOVHOST_LOGIN_FAILED');
    assert.equal(res.headers['set-cookie'], undefined);
  });

  test('a cookie of another department cannot read its services (404)', async () => {
    const other = await t.department('CO');
    const made = await t.request(t.adminToken, {
      method: 'POST',
      url: '/api/v1/services',
      payload: { department: other, slug: 'theirs', nameEn: 'Theirs', nameZh: '他們的', ...SERVICE },
    });
    assert.equal(made.statusCode, 201, made.body);
    const { cookie } = await signIn();
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/v1/services/${other}/theirs`,
      headers: { cookie },
    });
    assert.equal(res.statusCode, 404);
  });
});

describe('console files at /', () => {
  let t: TestApp;
  let dir: string;
  let app: Awaited<ReturnType<typeof buildApp>>;

  before(async () => {
    t = await testApp();
    dir = await mkdtemp(join(tmpdir(), 'govhost-console-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>GovHost console</title>');
    await writeFile(join(dir, 'assets', 'app-abc123.js'), 'console.log(1)');
    await writeFile(join(dir, '.secret'), 'hidden');
    app = await buildApp(t.deps, { logger: false, consoleDir: dir });
    await app.ready();
  });
  after(async () => {
    await app.close();
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('/ and client paths answer index.html; assets are cached for good', async () => {
    for (const url of ['/', '/services/IRD/etax', '/incidents?state=open']) {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, url);
      assert.match(res.headers['content-type'] as string, /^text\/html/);
      assert.match(res.body, /GovHost console/);
      assert.match(res.headers['content-security-policy'] as string, /frame-ancestors 'none'/);
      assert.equal(res.headers['cache-control'], 'no-cache');
    }
    const js = await app.inject({ method: 'GET', url: '/assets/app-abc123.js' });
    assert.equal(js.statusCode, 200);
    assert.match(js.headers['content-type'] as string, /^text\/javascript/);
    assert.match(js.headers['cache-control'] as string, /immutable/);
    const again = await app.inject({
      method: 'GET',
      url: '/assets/app-abc123.js',
      headers: { 'if-none-match': js.headers.etag as string },
    });
    assert.equal(again.statusCode, 304);
  });

  test('missing assets, dotfiles and escapes are not served', async () => {
    assert.equal((await app.inject({ method: 'GET', url: '/assets/gone-000.js' })).statusCode, 404);
    const dot = await app.inject({ method: 'GET', url: '/.secret' });
    assert.doesNotMatch(dot.body, /hidden/);
    const outside = await app.inject({ method: 'GET', url: '/..%2f..%2fetc%2fpasswd' });
    assert.doesNotMatch(outside.body, /root:/);
  });

  test('the platform routes still answer as before', async () => {
    assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).json().status, 'ok');
    const api = await app.inject({ method: 'GET', url: '/api/v1/nothing-here' });
    assert.equal(api.statusCode, 404);
    assert.equal(api.json().code, 'GOVHOST_ROUTE_NOT_FOUND');
    const unauth = await app.inject({ method: 'GET', url: '/api/v1/services' });
    assert.equal(unauth.statusCode, 401);
    const status = await app.inject({ method: 'GET', url: '/status' });
    assert.equal(status.statusCode, 200);
    assert.doesNotMatch(status.body, /GovHost console<\/title>/);
  });

  test('without a build, / says how to build it', async () => {
    const bare = await buildApp(t.deps, { logger: false, consoleDir: join(dir, 'nowhere') });
    try {
      const res = await bare.inject({ method: 'GET', url: '/' });
      assert.equal(res.statusCode, 503);
      assert.match(res.body, /npm run build:console/);
    } finally {
      await bare.close();
    }
  });
});
