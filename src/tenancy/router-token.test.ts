import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { writeSnapshot } from '../runtime/live-state.repository.ts';
import type { RuntimeDeps } from '../runtime/runtime.logic.ts';
import { type TestApp, testApp } from '../test-support/app.ts';

describe('router tokens (decision 028)', () => {
  let t: TestApp;
  let dept: string;
  let someone: string;
  before(async () => {
    t = await testApp();
    dept = await t.department('RTR');
    const admin = await t.user('dept-admin', dept);
    someone = admin.username;
    const res = await t.request(admin.token, {
      method: 'POST',
      url: '/api/v1/services',
      payload: {
        slug: 'booking',
        nameEn: 'Clinic booking',
        nameZh: '診所預約',
        origin: 'new',
        channels: ['web'],
        slaTier: 'gold',
      },
    });
    assert.equal(res.statusCode, 201, res.body);
  });
  after(() => t.close());

  const makeRouterToken = (token: string, name: string) =>
    t.request(token, { method: 'POST', url: '/api/v1/tokens/router', payload: { name } });

  it('only a platform admin makes one: a read-only token of the user router-<name>, role router', async () => {
    const made = await makeRouterToken(t.adminToken, 'edge-1');
    assert.equal(made.statusCode, 201, made.body);
    assert.equal(made.json().token.user, 'router-edge-1');
    assert.equal(made.json().token.scope, 'read');
    assert.match(made.json().secret, /^ghk_/);
    const user = await t.request(t.adminToken, { method: 'GET', url: '/api/v1/users/router-edge-1' });
    assert.equal(user.json().role, 'router');
    assert.equal(user.json().hasPassword, false);
    // A second token for the same router reuses its user.
    assert.equal((await makeRouterToken(t.adminToken, 'edge-1')).statusCode, 201);
    const operator = await t.user('operator');
    assert.equal((await makeRouterToken(operator.token, 'edge-2')).statusCode, 403);
    // A user of that name with another role is not turned into a router.
    await t.request(t.adminToken, {
      method: 'POST',
      url: '/api/v1/users',
      payload: { username: 'router-edge-3', displayName: 'x', role: 'operator' },
    });
    assert.equal((await makeRouterToken(t.adminToken, 'edge-3')).json().code, 'GOVHOST_USER_EXISTS');
    assert.equal((await makeRouterToken(t.adminToken, 'Edge 4')).statusCode, 400);
  });

  it('a router token reads the route table and nothing else (403 on every other read)', async () => {
    const { secret } = (await makeRouterToken(t.adminToken, 'edge-5')).json();
    const routes = (after: number) =>
      t.request(secret, { method: 'GET', url: `/api/v1/runtime/routes?after=${after}&waitSec=0` });
    assert.equal((await routes(0)).statusCode, 204);
    await writeSnapshot(t.db, {
      instances: [],
      services: [],
      state: {},
      routes: [{ hostname: 'a.example', service: 'D/a', kind: 'proxy', backends: [] }],
    });
    const table = await routes(0);
    assert.equal(table.statusCode, 200);
    assert.equal(table.json().routes[0].hostname, 'a.example');
    // The runtime's endpoints answer 503 in a process without a runtime: give them one that has
    // only a database, enough for their authorisation (which comes first) to be reached.
    t.deps.runtime = { db: t.db } as unknown as RuntimeDeps;
    // Every GET endpoint the API documents, with well-formed parameters of real rows.
    const params: Record<string, string> = {
      code: dept,
      department: dept,
      slug: 'booking',
      username: someone,
      id: '00000000-0000-0000-0000-000000000000',
      rule: 'service-down',
      kind: 'user',
      subject: 'someone',
    };
    const spec = (await t.request(null, { method: 'GET', url: '/api/v1/openapi.json' })).json();
    // What else it may do concerns itself: who it is, its own tokens.
    const allowed = new Set(['/api/v1/runtime/routes', '/api/v1/me', '/api/v1/tokens']);
    const answered: string[] = [];
    let asked = 0;
    type Param = { name: string; in: string; required?: boolean; schema?: { type?: string } };
    for (const [path, ops] of Object.entries(
      spec.paths as Record<string, { get?: { parameters?: Param[] } }>,
    )) {
      // The signed droplet and staging-bundle URLs take no token at all (the signature is the credential).
      const signed =
        path.startsWith('/api/v1/droplets/') || /^\/api\/v1\/bundles\/[^/]+\/archive$/.test(path);
      if (!ops.get || allowed.has(path) || signed) continue;
      const declared = ops.get.parameters ?? [];
      const integer = new Set(
        declared.filter((p) => p.in === 'path' && p.schema?.type === 'integer').map((p) => p.name),
      );
      const url = path.replace(/\{([^}]+)\}/g, (_m, name: string) =>
        integer.has(name) ? '1' : (params[name] ?? 'x'),
      );
      // Well-formed values for the query parameters an operation requires (reports need a month,
      // statements a department, the expected charge a financial year), and a month where it takes one.
      const queryValues: Record<string, string> = { month: '2026-11', department: dept, year: '2027-28' };
      const query = declared
        .filter((p) => p.in === 'query' && (p.required || p.name === 'month') && queryValues[p.name])
        .map((p, i) => `${i === 0 ? '?' : '&'}${p.name}=${queryValues[p.name]}`)
        .join('');
      const res = await t.request(secret, {
        method: 'GET',
        url: `${url}${query}`,
      });
      asked++;
      // Payment-key routes (decision 040) take no staff token at all: any other credential is a 401.
      const paymentKeyOnly = path.startsWith('/api/v1/payments');
      if (res.statusCode !== 403 && !(paymentKeyOnly && res.statusCode === 401))
        answered.push(`GET ${path}: ${res.statusCode} ${res.body.slice(0, 120)}`);
    }
    assert.ok(asked >= 30, `${asked} endpoints asked`);
    assert.deepEqual(answered, []);
    const writes = [
      { method: 'POST', url: '/api/v1/tokens', payload: { name: 'more' } },
      { method: 'POST', url: '/api/v1/departments', payload: { code: 'NEW', nameEn: 'n', nameZh: 'n' } },
      { method: 'PATCH', url: `/api/v1/services/${dept}/booking`, payload: { nameEn: 'x' } },
      { method: 'POST', url: `/api/v1/services/${dept}/booking/scale`, payload: { instances: 2 } },
    ] as const;
    for (const w of writes)
      assert.equal((await t.request(secret, w)).statusCode, 403, `${w.method} ${w.url}`);
  });
});
