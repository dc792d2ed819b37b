import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { type TestApp, testApp } from '../test-support/app.ts';
import { toMinutes } from './availability.ts';
import { closeOutage, openOutage } from './outage.repository.ts';

// The SLA report follows each service's lifecycle history: a service retired mid-month is in that
// month's report for the days it was active, and time suspended is not eligible.

const DAY = 86_400_000;
const now = new Date();
const thisMonth = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
const lastMonth = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1);
const lastMonthName = new Date(lastMonth).toISOString().slice(0, 7);
const thisMonthName = new Date(thisMonth).toISOString().slice(0, 7);
const day = (n: number, h = 0, m = 0) => new Date(lastMonth + (n - 1) * DAY + (h * 60 + m) * 60_000);

let t: TestApp;
let A: string;
let B: string;
let devA: string;
let devB: string;
const ids: Record<string, string> = {};

async function createService(dept: string, slug: string, tier: string) {
  const res = await t.request(t.adminToken, {
    method: 'POST',
    url: '/api/v1/services',
    payload: {
      department: dept,
      slug,
      nameEn: slug,
      nameZh: slug,
      origin: 'new',
      channels: ['web'],
      slaTier: tier,
    },
  });
  assert.equal(res.statusCode, 201, res.body);
  ids[slug] = res.json().id;
}

const moveTo = (dept: string, slug: string, lifecycle: string) =>
  t.request(t.adminToken, {
    method: 'PATCH',
    url: `/api/v1/services/${dept}/${slug}`,
    payload: { lifecycle },
  });

/**
 * Moves a service through its states through the API, then moves the history the catalogue
 * recorded back in time (the API records the present): `changes` are the states after the first
 * (planned, at creation), each with when it should have happened.
 */
async function live(dept: string, slug: string, tier: string, created: Date, changes: [string, Date][]) {
  await createService(dept, slug, tier);
  for (const [state] of changes) assert.equal((await moveTo(dept, slug, state)).statusCode, 200);
  const rows = await sql<{ id: string; state: string }>`
    select id, state from service_lifecycle where service_id = ${ids[slug]} order by id`.execute(t.db);
  assert.deepEqual(
    rows.rows.map((r) => r.state),
    ['planned', ...changes.map(([s]) => s)],
    'one history row per change, the first at creation',
  );
  const times = [created, ...changes.map(([, at]) => at)];
  for (const [i, r] of rows.rows.entries())
    await sql`update service_lifecycle set at = ${times[i]} where id = ${r.id}`.execute(t.db);
}

async function outage(slug: string, from: Date, to: Date) {
  const o = await openOutage(t.db, ids[slug] as string, from, 'HTTP 503');
  await closeOutage(t.db, o.id, to);
}

const report = (token: string, month: string, query = '') =>
  t.request(token, { method: 'GET', url: `/api/v1/reports/sla?month=${month}${query}` });

interface Line {
  service: string;
  lifecycle: string;
  eligibleMinutes: number;
  downtimeMinutes: number;
  outages: number;
  availability: number | null;
}
const bySlug = (body: { services: Line[] }) => Object.fromEntries(body.services.map((l) => [l.service, l]));

before(async () => {
  t = await testApp();
  A = await t.department('RET');
  B = await t.department('OTH');
  devA = (await t.user('dept-developer', A)).token;
  devB = (await t.user('dept-developer', B)).token;
  // oldsite: active before the month, retired on day 11 at 00:00: 10 days = 14,400 min eligible.
  // Outage day 3 10:00-10:15 counts (15 min); one on day 15, after the retirement, does not.
  await live(A, 'oldsite', 'gold', new Date(lastMonth - 10 * DAY), [
    ['active', new Date(lastMonth - 9 * DAY)],
    ['retired', day(11)],
  ]);
  await outage('oldsite', day(3, 10), day(3, 10, 15));
  await outage('oldsite', day(15, 10), day(15, 11));
  // paused: suspended from day 5 00:00 to day 8 12:00 = 3.5 days out of the month.
  await live(A, 'paused', 'silver', new Date(lastMonth - 20 * DAY), [
    ['active', new Date(lastMonth - 19 * DAY)],
    ['suspended', day(5)],
    ['active', day(8, 12)],
  ]);
  // gone: retired before the month began: not in the report.
  await live(A, 'gone', 'bronze', new Date(lastMonth - 40 * DAY), [
    ['active', new Date(lastMonth - 39 * DAY)],
    ['retired', new Date(lastMonth - 5 * DAY)],
  ]);
  // Department B's service, retired mid-month too: never in A's report.
  await live(B, 'theirs', 'bronze', new Date(lastMonth - 10 * DAY), [
    ['active', new Date(lastMonth - 9 * DAY)],
    ['retired', day(20)],
  ]);
});
after(() => t.close());

describe('SLA report over lifecycle history', () => {
  it('lists a service retired mid-month for the time it was active, and leaves out suspended time', async () => {
    const res = await report(devA, lastMonthName);
    assert.equal(res.statusCode, 200, res.body);
    const lines = bySlug(res.json());
    assert.deepEqual(
      Object.keys(lines).sort(),
      ['oldsite', 'paused'],
      'gone and the other department are not',
    );
    const eligible = 10 * 86_400;
    const { lifecycle, eligibleMinutes, downtimeMinutes, outages, availability } = lines.oldsite as Line;
    assert.deepEqual(
      { lifecycle, eligibleMinutes, downtimeMinutes, outages, availability },
      {
        lifecycle: 'retired',
        eligibleMinutes: 14_400,
        downtimeMinutes: 15,
        outages: 1,
        availability: Math.floor(((eligible - 900) * 100_000) / eligible) / 1000,
      },
    );
    assert.equal(lines.paused?.lifecycle, 'active');
    assert.equal(lines.paused?.eligibleMinutes, toMinutes((thisMonth - lastMonth) / 1000 - 3.5 * 86_400));
    const csv = await report(devA, lastMonthName, '&format=csv');
    assert.match(csv.body, new RegExp(`\r\n${A},oldsite,oldsite,retired,gold,99\\.95,14400,15,0,`));
  });

  it('leaves a service out of the months after its retirement', async () => {
    const res = await report(devA, thisMonthName);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(Object.keys(bySlug(res.json())), ['paused']);
  });

  it("shows each department only its own retired services, and 404 for another's", async () => {
    const theirs = bySlug((await report(devB, lastMonthName)).json());
    assert.deepEqual(Object.keys(theirs), ['theirs']);
    assert.equal(theirs.theirs?.lifecycle, 'retired');
    assert.equal(theirs.theirs?.eligibleMinutes, 19 * 24 * 60);
    const other = await report(devA, lastMonthName, `&department=${B}`);
    assert.equal(other.statusCode, 404, other.body);
  });

  it('records nothing for a refused change', async () => {
    const count = async () =>
      (
        await sql<{
          n: number;
        }>`select count(*)::int as n from service_lifecycle where service_id = ${ids.oldsite}`.execute(t.db)
      ).rows[0]?.n;
    const before = await count();
    const res = await moveTo(A, 'oldsite', 'active');
    assert.equal(res.statusCode, 409, res.body);
    assert.equal(res.json().code, 'GOVHOST_LIFECYCLE_TRANSITION');
    assert.equal(await count(), before);
  });
});
