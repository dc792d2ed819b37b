import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { SLA_TIERS } from '../catalog/sla-tiers.ts';
import { type TestApp, testApp } from '../test-support/app.ts';
import { insertAlert, resolveAlert } from './alert.repository.ts';
import { toMinutes } from './availability.ts';
import { insertIncident } from './incident.repository.ts';
import * as maintenanceRepo from './maintenance.repository.ts';
import type { ServiceState } from './monitoring.types.ts';
import { closeOutage, openOutage } from './outage.repository.ts';
import { buildStatusFeed, type StatusFeed } from './status.logic.ts';
import { renderStatusPage } from './status.page.ts';

const DAY = 86_400_000;
const HOSTILE = `<script>alert("x")</script> "Tax", & more`;

let t: TestApp;
let A: string;
let B: string;
let operator: string;
let devA: string;
let adminB: string;
const ids: Record<string, string> = {};

async function createService(dept: string, slug: string, tier: string, nameEn = `Service ${slug}`) {
  const res = await t.request(t.adminToken, {
    method: 'POST',
    url: '/api/v1/services',
    payload: {
      department: dept,
      slug,
      nameEn,
      nameZh: `服務 ${slug}`,
      origin: 'new',
      channels: ['web'],
      slaTier: tier,
    },
  });
  assert.equal(res.statusCode, 201, res.body);
  ids[slug] = res.json().id;
}

async function activate(dept: string, slug: string) {
  const res = await t.request(t.adminToken, {
    method: 'PATCH',
    url: `/api/v1/services/${dept}/${slug}`,
    payload: { lifecycle: 'active' },
  });
  assert.equal(res.statusCode, 200, res.body);
}

// History needs services older than today; the catalogue sets created_at and the lifecycle
// history itself, so a test that measures past months moves both back: the service is then
// active since `at`.
async function createdAt(slug: string, at: Date) {
  await sql`update services set created_at = ${at} where id = ${ids[slug]}`.execute(t.db);
  await sql`update service_lifecycle set at = ${at} where service_id = ${ids[slug]}`.execute(t.db);
}

async function outage(slug: string, from: Date, to: Date | null, cause = 'HTTP 503') {
  const o = await openOutage(t.db, ids[slug] as string, from, cause);
  if (to) await closeOutage(t.db, o.id, to);
  return o;
}

const iso = (d: Date) => d.toISOString();
const get = (token: string | null, url: string, headers: Record<string, string> = {}) =>
  t.request(token, { method: 'GET', url, headers });
const post = (token: string, payload: object) =>
  t.request(token, { method: 'POST', url: '/api/v1/maintenance', payload });

const now = new Date();
const thisMonth = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
const lastMonth = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1);
const lastMonthName = new Date(lastMonth).toISOString().slice(0, 7);
const lastMonthSeconds = (thisMonth - lastMonth) / 1000;

before(async () => {
  t = await testApp();
  A = await t.department('AAA');
  B = await t.department('BBB');
  operator = (await t.user('operator')).token;
  devA = (await t.user('dept-developer', A)).token;
  adminB = (await t.user('dept-admin', B)).token;
  await createService(A, 'alpha', 'gold');
  await createService(A, 'beta', 'silver', HOSTILE);
  await createService(A, 'draft', 'bronze');
  await createService(B, 'gamma', 'bronze');
  for (const [d, s] of [
    [A, 'alpha'],
    [A, 'beta'],
    [B, 'gamma'],
  ] as const)
    await activate(d, s);
});
after(() => t.close());

describe('maintenance notices', () => {
  const soon = new Date(now.getTime() + 2 * DAY);
  const later = new Date(soon.getTime() + 2 * 3_600_000);
  let serviceNotice: string;
  let platformNotice: string;

  it('lets an operator announce maintenance of a service, with an audit record', async () => {
    const res = await post(operator, {
      service: `${A}/alpha`,
      title: 'Database upgrade',
      message: 'eTAX will be unavailable.',
      startsAt: iso(soon),
      endsAt: iso(later),
    });
    assert.equal(res.statusCode, 201, res.body);
    const n = res.json();
    assert.equal(n.service, `${A}/alpha`);
    assert.equal(n.department, A);
    assert.equal(n.state, 'upcoming');
    assert.equal(n.platformWide, false);
    serviceNotice = n.id;
    const audit = (await get(t.adminToken, '/api/v1/audit')).json();
    const rec = audit.items.find((r: { targetId: string }) => r.targetId === n.id);
    assert.equal(rec?.action, 'maintenance.create');
    assert.equal(rec?.department, A);
  });

  it('lets an operator announce platform-wide maintenance', async () => {
    const res = await post(operator, {
      platformWide: true,
      title: 'Network work',
      startsAt: iso(soon),
      endsAt: iso(later),
    });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json().service, null);
    assert.equal(res.json().platformWide, true);
    platformNotice = res.json().id;
  });

  it('refuses a department user (403)', async () => {
    const res = await post(devA, {
      service: `${A}/alpha`,
      title: 'x',
      startsAt: iso(soon),
      endsAt: iso(later),
    });
    assert.equal(res.statusCode, 403, res.body);
    assert.equal(res.json().code, 'GOVHOST_FORBIDDEN');
  });

  const bad: [string, () => object, RegExp][] = [
    [
      'an end before the start',
      () => ({ startsAt: iso(later), endsAt: iso(soon) }),
      /endsAt must be after startsAt/,
    ],
    [
      'a window longer than 7 days',
      () => ({ startsAt: iso(soon), endsAt: iso(new Date(soon.getTime() + 8 * DAY)) }),
      /8 days 0 hours; one notice may cover at most 7 days/,
    ],
    [
      'a window wholly in the past',
      () => ({
        startsAt: iso(new Date(now.getTime() - 2 * DAY)),
        endsAt: iso(new Date(now.getTime() - DAY)),
      }),
      /endsAt is in the past/,
    ],
    ['both a service and platformWide', () => ({ platformWide: true }), /either service .* or platformWide/],
    ['no date', () => ({ startsAt: 'tomorrow' }), /startsAt must match format "date-time"/],
  ];
  for (const [what, body, message] of bad) {
    it(`answers 400 for ${what}, writing nothing`, async () => {
      const before = (await get(operator, '/api/v1/maintenance?include=all')).json().total;
      const res = await post(operator, {
        service: `${A}/alpha`,
        title: 'x',
        startsAt: iso(soon),
        endsAt: iso(later),
        ...body(),
      });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().code, 'GOVHOST_VALIDATION');
      assert.match(res.json().detail, message);
      assert.equal((await get(operator, '/api/v1/maintenance?include=all')).json().total, before);
    });
  }

  it('answers 400 for neither a service nor platformWide, and 404 for an unknown service', async () => {
    const neither = await post(operator, { title: 'x', startsAt: iso(soon), endsAt: iso(later) });
    assert.equal(neither.statusCode, 400, neither.body);
    const unknown = await post(operator, {
      service: `${A}/nope`,
      title: 'x',
      startsAt: iso(soon),
      endsAt: iso(later),
    });
    assert.equal(unknown.statusCode, 404, unknown.body);
    assert.equal(unknown.json().code, 'GOVHOST_SERVICE_NOT_FOUND');
  });

  it("shows a department its own services' notices and platform-wide ones, not another's", async () => {
    const mine = (await get(devA, '/api/v1/maintenance')).json();
    assert.deepEqual(
      mine.items.map((n: { id: string }) => n.id).sort(),
      [serviceNotice, platformNotice].sort(),
    );
    const theirs = (await get(adminB, '/api/v1/maintenance')).json();
    assert.deepEqual(
      theirs.items.map((n: { id: string }) => n.id),
      [platformNotice],
    );
    const res = await get(adminB, `/api/v1/maintenance?service=${A}/alpha`);
    assert.equal(res.statusCode, 404, res.body);
    const cancel = await t.request(adminB, { method: 'DELETE', url: `/api/v1/maintenance/${serviceNotice}` });
    assert.equal(cancel.statusCode, 403, cancel.body);
  });

  it('lets an operator cancel a notice once, with an audit record', async () => {
    const res = await t.request(operator, { method: 'DELETE', url: `/api/v1/maintenance/${serviceNotice}` });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().state, 'cancelled');
    const again = await t.request(operator, {
      method: 'DELETE',
      url: `/api/v1/maintenance/${serviceNotice}`,
    });
    assert.equal(again.statusCode, 409, again.body);
    assert.equal(again.json().code, 'GOVHOST_MAINTENANCE_CLOSED');
    const unknown = await t.request(operator, {
      method: 'DELETE',
      url: '/api/v1/maintenance/00000000-0000-4000-8000-000000000000',
    });
    assert.equal(unknown.statusCode, 404, unknown.body);
    const current = (await get(devA, '/api/v1/maintenance')).json();
    assert.deepEqual(
      current.items.map((n: { id: string }) => n.id),
      [platformNotice],
    );
    const audit = (await get(t.adminToken, '/api/v1/audit')).json();
    assert.ok(
      audit.items.some(
        (r: { action: string; targetId: string }) =>
          r.action === 'maintenance.cancel' && r.targetId === serviceNotice,
      ),
    );
    // Leave the platform-wide notice out of the later tests' arithmetic.
    await t.request(operator, { method: 'DELETE', url: `/api/v1/maintenance/${platformNotice}` });
  });
});

describe('SLA report of last month', () => {
  // alpha (gold), created before the month:
  //   outage day 3 10:00:00-10:01:30 = 90 s; outage across the month's end, last 5 min = 300 s;
  //   outage day 4 01:00-03:00 with maintenance day 4 00:00-02:00: 3,600 s counted.
  //   downtime 3,990 s = 66.5 min; maintenance 7,200 s = 120 min; eligible = month - 7,200 s.
  // beta (silver), created on day 16 at 12:00: no outages, 100 %.
  // gamma (bronze, department B): outage day 6 10 min = 600 s.
  const day = (n: number, h = 0, m = 0, s = 0) =>
    new Date(lastMonth + (n - 1) * DAY + ((h * 60 + m) * 60 + s) * 1000);

  before(async () => {
    await createdAt('alpha', new Date(lastMonth - 10 * DAY));
    await createdAt('beta', day(16, 12));
    await createdAt('gamma', new Date(lastMonth - 200 * DAY));
    await outage('alpha', day(3, 10), day(3, 10, 1, 30));
    await outage('alpha', new Date(thisMonth - 300_000), new Date(thisMonth + 300_000));
    await outage('alpha', day(4, 1), day(4, 3));
    // The API refuses windows in the past (they are announced ahead); history is written directly.
    await maintenanceRepo.insert(t.db, {
      service_id: ids.alpha as string,
      department_id: await deptId(A),
      title: 'past work',
      message: '',
      starts_at: day(4, 0),
      ends_at: day(4, 2),
      created_by: 'test',
    });
    await outage('gamma', day(6, 10), day(6, 10, 10));
  });

  async function deptId(code: string): Promise<string> {
    const row = await sql<{ id: string }>`select id from departments where code = ${code}`.execute(t.db);
    return (row.rows[0] as { id: string }).id;
  }

  it('gives each service its availability against its tier, and totals', async () => {
    const res = await get(operator, `/api/v1/reports/sla?month=${lastMonthName}`);
    assert.equal(res.statusCode, 200, res.body);
    const r = res.json();
    assert.equal(r.month, lastMonthName);
    assert.equal(r.partial, false);
    const by = Object.fromEntries(r.services.map((l: { service: string }) => [l.service, l]));
    assert.deepEqual(Object.keys(by).sort(), ['alpha', 'beta', 'gamma'], 'the planned service is left out');
    const eligibleAlpha = lastMonthSeconds - 7_200;
    assert.deepEqual(by.alpha, {
      department: A,
      service: 'alpha',
      nameEn: 'Service alpha',
      lifecycle: 'active',
      tier: 'gold',
      target: SLA_TIERS.gold.target,
      eligibleMinutes: toMinutes(eligibleAlpha),
      downtimeMinutes: 66.5,
      maintenanceMinutes: 120,
      availability: Math.floor(((eligibleAlpha - 3_990) * 100_000) / eligibleAlpha) / 1000,
      met: false,
      outages: 3,
      incidents: 0, // incidents come from the incidents table: see the next tests
    });
    const betaSeconds = (thisMonth - day(16, 12).getTime()) / 1000;
    assert.equal(by.beta.eligibleMinutes, toMinutes(betaSeconds));
    assert.equal(by.beta.availability, 100);
    assert.equal(by.beta.met, true);
    assert.equal(by.gamma.downtimeMinutes, 10);
    assert.equal(by.gamma.met, true);
    assert.equal(r.totals.services, 3);
    assert.equal(r.totals.met, 2);
    assert.equal(r.totals.notMet, 1);
    assert.equal(r.totals.downtimeMinutes, toMinutes(3_990 + 600));
    assert.equal(r.totals.outages, 4);
  });

  it('scopes a department user to its own services, and answers 404 for another department', async () => {
    const mine = (await get(devA, `/api/v1/reports/sla?month=${lastMonthName}`)).json();
    assert.deepEqual(mine.services.map((l: { service: string }) => l.service).sort(), ['alpha', 'beta']);
    const named = (await get(devA, `/api/v1/reports/sla?month=${lastMonthName}&department=${A}`)).json();
    assert.equal(named.services.length, 2);
    const other = await get(devA, `/api/v1/reports/sla?month=${lastMonthName}&department=${B}`);
    assert.equal(other.statusCode, 404, other.body);
    assert.equal(other.json().code, 'GOVHOST_DEPARTMENT_NOT_FOUND');
    const operatorB = (
      await get(operator, `/api/v1/reports/sla?month=${lastMonthName}&department=${B}`)
    ).json();
    assert.deepEqual(
      operatorB.services.map((l: { service: string }) => l.service),
      ['gamma'],
    );
  });

  it('exports CSV by format=csv or Accept: text/csv', async () => {
    for (const [url, headers] of [
      [`/api/v1/reports/sla?month=${lastMonthName}&format=csv`, {}],
      [`/api/v1/reports/sla?month=${lastMonthName}`, { accept: 'text/csv' }],
    ] as const) {
      const res = await get(operator, url, headers);
      assert.equal(res.statusCode, 200, res.body);
      assert.match(String(res.headers['content-type']), /^text\/csv; charset=utf-8/);
      assert.equal(res.headers['content-disposition'], `attachment; filename="sla-${lastMonthName}.csv"`);
      assert.notEqual(res.rawPayload[0], 0xef, 'no byte-order mark');
      const lines = res.body.split('\r\n');
      assert.equal(
        lines[0],
        'department,service,name,lifecycle,tier,target_percent,eligible_minutes,downtime_minutes,maintenance_minutes,availability_percent,met,outages,incidents',
      );
      assert.equal(lines.at(-1), '', 'every record ends in CRLF');
      assert.equal(lines.length, 5);
      const alpha = lines.find((l) => l.startsWith(`${A},alpha,`));
      assert.match(alpha ?? '', /,active,gold,99\.95,[\d.]+,66\.5,120,[\d.]+,no,3,0$/);
      // The name with a quote and commas is one quoted field, its quotes doubled.
      assert.ok(
        lines.includes(
          `${A},beta,"<script>alert(""x"")</script> ""Tax"", & more",active,silver,99.9,${toMinutes((thisMonth - day(16, 12).getTime()) / 1000)},0,0,100,yes,0,0`,
        ),
        lines.join('\n'),
      );
    }
  });

  it('counts the incidents opened in the month', async () => {
    // alpha: two incidents in the month, one the month before (not counted); beta and gamma none.
    const incident = (openedAt: Date) =>
      insertIncident(t.db, {
        service_id: ids.alpha as string,
        department_id: alphaDept,
        service_key: 'x/alpha',
        rule: 'service-down',
        alert_id: null,
        severity: 'P1',
        title: 'down',
        state: 'resolved',
        opened_at: openedAt,
        acknowledged_at: null,
        acknowledged_by: null,
        assignee_id: null,
        assignee_name: null,
        resolved_at: openedAt,
        resolved_by: 'auto',
        time_to_acknowledge_sec: null,
        time_to_resolve_sec: 0,
      });
    const alphaDept = await deptId(A);
    await incident(day(3, 10));
    await incident(day(20, 23, 59, 59));
    await incident(new Date(lastMonth - 1000));
    const r = (await get(operator, `/api/v1/reports/sla?month=${lastMonthName}`)).json();
    const counts = Object.fromEntries(
      r.services.map((l: { service: string; incidents: number }) => [l.service, l.incidents]),
    );
    assert.equal(counts.alpha, 2, JSON.stringify(counts));
    assert.equal(r.totals.incidents, 2);
  });

  const badMonths: [string, RegExp][] = [
    ['2026-13', /month 2026-13 does not exist: the month part must be 01 to 12/],
    ['2026-00', /month part must be 01 to 12/],
    // The shape is the schema's (the document shows it); the range is the logic's.
    ['2026-1', /month must match pattern/],
    ['november', /month must match pattern/],
    [`${now.getUTCFullYear() + 1}-01`, /has not begun yet/],
  ];
  for (const [month, message] of badMonths) {
    it(`answers a precise 400 for month=${month}`, async () => {
      const res = await get(operator, `/api/v1/reports/sla?month=${month}`);
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().code, 'GOVHOST_VALIDATION');
      assert.match(res.json().detail, message);
      assert.equal(res.json().errors[0].field, 'querystring/month');
    });
  }

  it('answers 400 without a month, and 401 without a token', async () => {
    const res = await get(operator, '/api/v1/reports/sla');
    assert.equal(res.statusCode, 400);
    assert.match(res.json().detail, /month is required/);
    assert.equal((await get(null, `/api/v1/reports/sla?month=${lastMonthName}`)).statusCode, 401);
  });
});

describe('SLA report of this month, with maintenance posted through the API', () => {
  it('counts the month until now and leaves the announced window out of downtime', async () => {
    // delta, created 120 s ago: outage [now-40 s, now-20 s), maintenance [now-30 s, now+10 min)
    // posted now (it may start in the past while it is not over). Downtime: [now-40 s, now-30 s)
    // = 10 s, cut at the month's start if the month began less than 40 s ago.
    await createService(A, 'delta', 'gold');
    await activate(A, 'delta');
    const t0 = Date.now();
    await createdAt('delta', new Date(t0 - 120_000));
    await outage('delta', new Date(t0 - 40_000), new Date(t0 - 20_000));
    const res = await post(operator, {
      service: `${A}/delta`,
      title: 'Emergency patch',
      startsAt: iso(new Date(t0 - 30_000)),
      endsAt: iso(new Date(t0 + 600_000)),
    });
    assert.equal(res.statusCode, 201, res.body);
    const month = new Date(t0).toISOString().slice(0, 7);
    const r = (await get(devA, `/api/v1/reports/sla?month=${month}`)).json();
    assert.equal(r.partial, true);
    const delta = r.services.find((l: { service: string }) => l.service === 'delta');
    const expected = Math.max(0, t0 - 30_000 - Math.max(t0 - 40_000, thisMonth)) / 1000;
    assert.equal(delta.downtimeMinutes, toMinutes(expected));
    assert.ok(
      delta.maintenanceMinutes >= 0.5 && delta.maintenanceMinutes < 1,
      String(delta.maintenanceMinutes),
    );
    assert.equal(delta.outages, 1);
  });
});

describe('public status page', () => {
  let feed: StatusFeed;

  before(async () => {
    // gamma: down since a minute ago; yesterday 864 s down = exactly 1 % of the day -> 99.
    const today = Math.floor(Date.now() / DAY) * DAY;
    await outage(
      'gamma',
      new Date(today - DAY + 3_600_000),
      new Date(today - DAY + 3_600_000 + 864_000),
      'ECONNREFUSED 10.1.2.3:40123',
    );
    // Started today even in a day's first minute, so that yesterday keeps its 99.
    await outage(
      'gamma',
      new Date(Math.max(Date.now() - 60_000, today)),
      null,
      'ECONNREFUSED 10.1.2.3:40123',
    );
  });

  it('serves the JSON feed without a token', async () => {
    const res = await get(null, '/status.json');
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.match(String(res.headers['cache-control']), /max-age=5/);
    feed = res.json();
    assert.equal(feed.days.length, 90);
    assert.equal(feed.days.at(-1), new Date().toISOString().slice(0, 10));
    const codes = feed.departments.map((d) => d.code);
    assert.deepEqual(codes, [A, B].sort());
    const a = feed.departments.find((d) => d.code === A);
    assert.deepEqual(
      a?.services.map((s) => s.slug),
      ['alpha', 'beta', 'delta'],
      'no planned service',
    );
    const gamma = feed.departments.find((d) => d.code === B)?.services[0];
    assert.equal(gamma?.state, 'down');
    assert.equal(gamma?.daily.at(-2), 99);
    assert.ok((gamma?.daily.at(-1) ?? 100) < 100);
    const delta = a?.services.find((s) => s.slug === 'delta');
    assert.equal(delta?.state, 'maintenance');
    // Created two minutes ago: today only (or yesterday too in a day's first two minutes).
    assert.ok((delta?.daily.filter((v) => v !== null).length ?? 0) <= 2, 'delta has no history');
    assert.equal(delta?.daily.at(-3), null);
    assert.equal(feed.maintenance.length, 1);
    assert.equal(feed.maintenance[0]?.state, 'active');
    assert.deepEqual(feed.summary, { operational: 2, degraded: 0, down: 1, maintenance: 1, 'no-data': 0 });
    assert.equal(a?.services.find((s) => s.slug === 'beta')?.nameEn, HOSTILE);
    // Nothing private: no ids, no causes, no internal addresses.
    for (const secret of [ids.alpha, ids.gamma, 'ECONNREFUSED', '10.1.2.3', 'HTTP 503']) {
      assert.ok(!res.body.includes(secret as string), `feed shows ${secret}`);
    }
  });

  it('serves an accessible HTML page without a token, with every text escaped', async () => {
    const res = await get(null, '/status');
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(String(res.headers['content-security-policy']), /default-src 'none'/);
    const html = res.body;
    assert.match(html, /^<!doctype html>\n<html lang="en">/);
    assert.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
    assert.match(html, /<h1>Service status<\/h1>/);
    assert.equal((html.match(/<h2 /g) ?? []).length, 3, 'maintenance and one heading per department');
    assert.ok(!html.includes('<script'), 'the hostile name is not markup');
    assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &quot;Tax&quot;, &amp; more'));
    // States in words, not only colour.
    assert.match(html, /✕ Down/);
    assert.match(html, /⚒ Under maintenance/);
    assert.match(html, /✓ Operational/);
    assert.match(html, /Emergency patch/);
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'no external assets');
    assert.ok(!html.includes('ECONNREFUSED') && !html.includes(ids.gamma as string));
  });

  it('serves the computed feed from its cache until maintenance changes', async () => {
    const first = (await get(null, '/status.json')).json();
    const blip = await outage('alpha', new Date(Date.now() - 1_000), null);
    const cached = (await get(null, '/status.json')).json();
    assert.equal(cached.generatedAt, first.generatedAt, 'a refresh within 5 s is not recomputed');
    assert.equal(cached.departments[0].services[0].state, 'operational');
    const res = await post(operator, {
      service: `${A}/beta`,
      title: 'Certificate renewal',
      startsAt: iso(new Date(Date.now() + DAY)),
      endsAt: iso(new Date(Date.now() + DAY + 600_000)),
    });
    assert.equal(res.statusCode, 201);
    const fresh = (await get(null, '/status.json')).json();
    const alpha = fresh.departments.find((d: { code: string }) => d.code === A).services[0];
    assert.equal(alpha.state, 'down');
    assert.deepEqual(
      fresh.maintenance.map((n: { title: string; state: string }) => [n.title, n.state]),
      [
        ['Emergency patch', 'active'],
        ['Certificate renewal', 'upcoming'],
      ],
    );
    await closeOutage(t.db, blip.id, new Date());
  });

  it('says "no data" for a service the engine has not probed, when the engine runs', async () => {
    // What the engine says of each service: alpha probed up, beta watched but not probed yet,
    // the others not watched at all.
    const probed = new Map<string, ServiceState>([
      [ids.alpha as string, 'up'],
      [ids.beta as string, 'unknown'],
    ]);
    const f = await buildStatusFeed(t.db, { stateOf: (id) => probed.get(id) });
    const states = Object.fromEntries(f.departments.flatMap((d) => d.services.map((s) => [s.slug, s.state])));
    assert.deepEqual(states, { alpha: 'operational', beta: 'no-data', delta: 'maintenance', gamma: 'down' });
  });

  it('keeps a service down while its service-down alert fires, and degraded on errors or latency', async () => {
    // The outage closed at the first good probe, but the alert (and its P1 incident) stays open
    // for the rule's clear duration: the page may not call the service operational meanwhile.
    const at = new Date(Date.now() - 20_000);
    await outage('alpha', at, new Date(Date.now() - 5_000));
    const fire = (slug: string, dept: string, rule: string) =>
      insertAlert(t.db, {
        service_id: ids[slug] as string,
        department_id: dept,
        service_key: `X/${slug}`,
        rule,
        state: 'firing',
        value: null,
        threshold: null,
        message: 'test',
        started_at: at,
        resolved_at: null,
      });
    const deptId = async (code: string) =>
      (await sql<{ id: string }>`select id from departments where code = ${code}`.execute(t.db)).rows[0]
        ?.id as string;
    const a = await deptId(A);
    const states = async () => {
      const f = await buildStatusFeed(t.db, null);
      return {
        f,
        by: Object.fromEntries(f.departments.flatMap((d) => d.services.map((s) => [s.slug, s.state]))),
      };
    };
    await fire('alpha', a, 'service-down');
    await fire('alpha', a, 'latency');
    await fire('beta', a, 'crash-loop');
    // alpha: down (service-down wins over latency); beta: a crash loop other instances may hide
    // is not a citizen's symptom; gamma: its open outage; delta: its maintenance notice.
    assert.deepEqual((await states()).by, {
      alpha: 'down',
      beta: 'operational',
      delta: 'maintenance',
      gamma: 'down',
    });
    await fire('beta', a, 'error-rate');
    const { f, by } = await states();
    assert.equal(by.beta, 'degraded');
    assert.deepEqual(f.summary, { operational: 0, degraded: 1, down: 2, maintenance: 1, 'no-data': 0 });
    const html = renderStatusPage(f);
    assert.doesNotMatch(html, /All services are operational/);
    assert.match(html, /0 of 4 services operational; 2 down, 1 degraded, 1 under maintenance/);
    assert.match(html, /! Degraded/);
    for (const [slug, rule] of [
      ['alpha', 'service-down'],
      ['alpha', 'latency'],
      ['beta', 'crash-loop'],
      ['beta', 'error-rate'],
    ] as const)
      await resolveAlert(t.db, ids[slug] as string, rule, new Date());
    const cleared = (await states()).by;
    assert.equal(cleared.alpha, 'operational');
    assert.equal(cleared.beta, 'operational');
  });
});
