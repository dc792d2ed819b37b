/**
 * The store the API fuzzer (api-fuzz.test.ts) works on: enough real things that valid requests
 * reach the logic rather than 404s, the real ids to fill path parameters with, and a fingerprint
 * of every table to prove that a refused request wrote nothing.
 */
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { type AdmissionHarness, admissionHarness } from '../capacity/capacity.fixtures.ts';
import { insertAlert } from '../monitoring/alert.repository.ts';
import { openForAlert } from '../monitoring/incident.logic.ts';
import type { TestApp } from '../test-support/app.ts';

export interface Fuzzer {
  name: 'platform-admin' | 'dept-developer';
  token: string;
  username: string;
}

export interface FuzzStore {
  fuzzers: Fuzzer[];
  departments: string[];
  /** Users whose tokens the fuzzers hold: never revoked or disabled, or the run would lock itself out. */
  ownUsers: string[];
  harness: AdmissionHarness;
  /** A test payment key of FZA/forms: what the payments API for hosted services takes instead of a staff token. */
  paymentKey: string;
  /** The service that key belongs to: never given to another operation, or one that deletes or
   * retires it would take the key with it and leave the payments API answering only 401. */
  paymentService: { department: string; slug: string };
}

async function must(t: TestApp, token: string, method: string, url: string, payload?: unknown) {
  const res = await t.request(token, {
    method: method as 'GET',
    url: `/api/v1${url}`,
    payload: payload as never,
  });
  if (res.statusCode >= 300) throw new Error(`fixture ${method} ${url}: ${res.statusCode} ${res.body}`);
  return res.json();
}

/** Two departments with services, a developer, a farm and quota, two releases, an incident, … */
export async function fuzzStore(t: TestApp): Promise<FuzzStore> {
  const harness = await admissionHarness(t);
  const a = await t.department('FZA');
  const b = await t.department('FZB');
  // An empty one, which the admin may delete.
  await t.department('FZC');
  const dev = await t.user('dept-developer', a);
  await t.user('dept-admin', b);
  const viewer = await t.user('dept-viewer', a, 'read');
  await must(t, t.adminToken, 'POST', '/tokens', { name: 'second', user: viewer.username });
  const admin = (await must(t, t.adminToken, 'GET', '/me')).username as string;
  await must(t, t.adminToken, 'POST', '/farms', {
    code: 'FZ-01',
    vcpu: 64,
    memoryMb: 262_144,
    storageGb: 2000,
    idleWatts: 100,
    maxWatts: 400,
    state: 'active',
    activeFrom: '2026-01-01',
  });
  await must(t, t.adminToken, 'PUT', `/departments/${a}/quota`, {
    memoryMb: 65_536,
    instances: 50,
    services: 20,
  });
  const portal = await harness.newService(t.adminToken, a, 'portal');
  await harness.newService(dev.token, a, 'forms');
  await harness.newService(t.adminToken, b, 'elsewhere');
  // Two live releases, so that rollback has somewhere to go.
  const bundle = await harness.bundle(1, '128M');
  for (let i = 0; i < 2; i++) {
    const d = await harness.deploy(dev.token, `${a}/portal`, bundle);
    if (d.status !== 202) throw new Error(`fixture deploy: ${d.status} ${JSON.stringify(d.json)}`);
    await harness.markLive(portal, d.json.deployment.id, { instances: 1, memoryMb: 128 });
  }
  await must(t, dev.token, 'PATCH', `/services/${a}/portal/env`, { set: { GREETING: 'hello' } });
  await must(t, dev.token, 'POST', '/requests', {
    slug: 'new-form',
    nameEn: 'New form',
    nameZh: '新表格',
    origin: 'new',
    channels: ['web'],
    slaTier: 'bronze',
    instances: 1,
    memoryMb: 128,
    goLive: new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10),
  });
  const soon = Date.now() + 86_400_000;
  await must(t, t.adminToken, 'POST', '/maintenance', {
    service: `${a}/portal`,
    title: 'Upgrade',
    startsAt: new Date(soon).toISOString(),
    endsAt: new Date(soon + 3_600_000).toISOString(),
  });
  await must(t, t.adminToken, 'POST', '/capacity/demand', {
    kind: 'growth',
    goLive: '2027-01',
    growthPctPerMonth: 2,
  });
  // A counted failed sign-in, for the throttle operations.
  await t.request(null, {
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username: dev.username, password: 'not the password at all' },
  });
  // An incident, as the alert engine opens one.
  const svc = await t.db
    .selectFrom('services')
    .select(['id', 'department_id'])
    .where('id', '=', portal)
    .executeTakeFirstOrThrow();
  await t.db.transaction().execute(async (trx) => {
    const alert = await insertAlert(trx, {
      service_id: svc.id,
      department_id: svc.department_id,
      service_key: `${a}/portal`,
      rule: 'service-down',
      state: 'firing',
      value: null,
      threshold: null,
      message: 'portal is down',
      started_at: new Date(),
      resolved_at: null,
    });
    await openForAlert(trx, alert, 'P1');
  });
  return {
    fuzzers: [
      { name: 'platform-admin', token: t.adminToken, username: admin },
      { name: 'dept-developer', token: dev.token, username: dev.username },
    ],
    departments: [a, b],
    ownUsers: [admin, dev.username],
    harness,
    paymentKey: (await must(t, dev.token, 'POST', `/services/${a}/forms/payment-keys`, { name: 'fuzz' }))
      .secret,
    paymentService: { department: a, slug: 'forms' },
  };
}

type Row = Record<string, string>;

/**
 * Real values for the path parameters of `path`, one assignment per row (a service's department
 * and slug go together). Read at each request, so that what the fuzzer made is used too.
 */
export async function realParams(t: TestApp, store: FuzzStore, path: string): Promise<Row[]> {
  const db = t.db;
  const q = async (query: ReturnType<typeof sql<Row>>) => (await query.execute(db)).rows;
  const own = sql.join(store.ownUsers.map((u) => sql`${u}`));
  const service = sql`select d.code as department, s.slug, s.id as service_id from services s join departments d on d.id = s.department_id`;
  if (path.includes('/deployments/{id}')) {
    return q(
      sql<Row>`select v.department, v.slug, x.id::text as id from deployments x join (${service}) v on v.service_id = x.service_id`,
    );
  }
  if (path.includes('{slug}')) {
    const { department, slug } = store.paymentService;
    return q(
      sql<Row>`select department, slug from (${service}) v where (department, slug) <> (${department}, ${slug})`,
    );
  }
  if (path.startsWith('/api/v1/departments/')) return q(sql<Row>`select code from departments`);
  // The payments API's own: those of the key's service (another's are a 404, which is fuzzed too).
  if (path.startsWith('/api/v1/payments/')) {
    const { department, slug } = store.paymentService;
    return q(
      sql<Row>`select p.id::text as id from payments p join (${service}) v on v.service_id = p.service_id where (v.department, v.slug) = (${department}, ${slug})`,
    );
  }
  if (path.startsWith('/api/v1/farms/')) return q(sql<Row>`select code from farms`);
  if (path.startsWith('/api/v1/users/'))
    return q(sql<Row>`select username from users where username not in (${own})`);
  if (path.startsWith('/api/v1/tokens/')) {
    return q(
      sql<Row>`select t.id::text as id from api_tokens t join users u on u.id = t.user_id where u.username not in (${own})`,
    );
  }
  if (path.startsWith('/api/v1/sign-in/throttles/'))
    return q(sql<Row>`select kind, subject from sign_in_throttle`);
  const ids: Record<string, string> = {
    '/api/v1/incidents/': 'incidents',
    '/api/v1/notification-channels/': 'notification_channels',
    '/api/v1/requests/': 'hosting_requests',
    '/api/v1/capacity/demand/': 'planned_demand',
    '/api/v1/maintenance/': 'maintenance_notices',
  };
  for (const [prefix, table] of Object.entries(ids)) {
    if (path.startsWith(prefix)) return q(sql<Row>`select id::text as id from ${sql.table(table)}`);
  }
  return [];
}

// What may change without a write by the request: the bookkeeping of reads and sign-ins.
const VOLATILE: Record<string, string[]> = { api_tokens: ['last_used_at'] };
// Tables written on purpose by a refused request: admission refused for want of capacity is
// recorded as unmet demand (for the forecast). The migration tables change with no request.
const WRITTEN_ON_REFUSAL = new Set(['unmet_demand', 'kysely_migration', 'kysely_migration_lock']);

/** A function that digests every table's rows in one query: equal digests, nothing written. */
export async function fingerprinter(t: TestApp): Promise<() => Promise<string>> {
  const tables = (
    await sql<{ name: string }>`select table_name as name from information_schema.tables
      where table_schema = current_schema() and table_type = 'BASE TABLE' order by 1`.execute(t.db)
  ).rows
    .map((r) => r.name)
    .filter((n) => !WRITTEN_ON_REFUSAL.has(n));
  const parts = tables.map((name) => {
    // The audit log only grows, and each record's MAC covers the one before: its size and newest
    // MAC stand for all of it (the test verifies the whole chain at the end), and cost nothing.
    if (name === 'audit_log') {
      return sql`(select 'audit_log' || count(*) || ':' || coalesce((select hash from audit_log order by seq desc limit 1), '') from audit_log)`;
    }
    const row = sql.join([sql`to_jsonb(x)`, ...(VOLATILE[name] ?? []).map((c) => sql.lit(c))], sql` - `);
    return sql`(select ${sql.lit(name)} || count(*) || ':' || coalesce(md5(string_agg((${row})::text, ',' order by (${row})::text)), '') from ${sql.table(name)} x)`;
  });
  const query = sql<{ digest: string }>`select concat_ws('|', ${sql.join(parts)}) as digest`;
  return async () => {
    const { digest } = (await query.execute(t.db)).rows[0] ?? { digest: '' };
    return createHash('sha256').update(digest).digest('hex');
  };
}
