// Budgets on a real store, by hand: a department's monthly and yearly budgets, the watch telling
// each threshold once (a second round adds nothing; a changed budget is crossed anew), through the
// department's channel; set by finance only, read by a department for itself only.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestApp, testApp } from '../test-support/app.ts';
import { checkBudgets, financialYearOf } from './budget.logic.ts';

describe('finance budgets', () => {
  let t: TestApp;
  let finance: string;
  const dept: Record<string, { code: string; id: string }> = {};
  const call = async (token: string, method: string, url: string, payload?: unknown) => {
    const res = await t.request(token, {
      method: method as 'GET',
      url: `/api/v1${url}`,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    return { status: res.statusCode, json: res.body ? res.json() : null, body: res.body };
  };
  const told = async () =>
    (
      await t.db
        .selectFrom('notification_outbox')
        .select('body')
        .where('event', '=', 'finance.budget-alert')
        .execute()
    )
      .map((r) => JSON.parse(r.body).message as string)
      .sort();

  before(async () => {
    t = await testApp({ webhookAllow: ['127.0.0.1'] });
    finance = (await t.user('finance')).token;
    for (const d of ['A', 'B']) {
      const code = await t.department(`BU${d}`);
      const row = await t.db
        .selectFrom('departments')
        .select('id')
        .where('code', '=', code)
        .executeTakeFirstOrThrow();
      dept[d] = { code, id: row.id };
    }
    const svc = await call(t.adminToken, 'POST', '/services', {
      department: dept.A?.code,
      slug: 'a1',
      nameEn: 'a1',
      nameZh: 'a1',
      origin: 'new',
      channels: ['web'],
      slaTier: 'silver',
    });
    assert.equal(svc.status, 201, svc.body);
    const ch = await call(t.adminToken, 'POST', '/notification-channels', {
      kind: 'webhook',
      url: 'http://127.0.0.1:9/finance',
      department: dept.A?.code,
    });
    assert.equal(ch.status, 201, ch.body);
    // March 2026: a1 reserves 2 GB all month, at 2 cents a GB-hour (4 cents an hour); February
    // carries a 5-dollar adjustment, counted in the financial year 2025-26.
    await t.db
      .insertInto('reservation_intervals')
      .values({
        service_id: svc.json.id,
        department_id: dept.A?.id as string,
        instances: 1,
        memory_mb: 2048,
        cpu: 0,
        storage_mb: 0,
        valid_from: new Date('2026-03-01T00:00:00Z'),
        valid_to: new Date('2026-04-01T00:00:00Z'),
      })
      .execute();
    await t.db
      .insertInto('finance_rates')
      .values({ resource: 'memory-gb-hour', valid_from: '2026-01-01', cents_per_unit: 2, created_by: 'test' })
      .execute();
    await t.db
      .insertInto('finance_adjustments')
      .values({
        department_id: dept.A?.id as string,
        month: '2026-02',
        amount_cents: 500,
        reason: 'x',
        created_by: 'test',
      })
      .execute();
  });
  after(() => t.close());

  it('knows a financial year: April to March', () => {
    assert.deepEqual(financialYearOf('2026-03'), {
      key: '2025-26',
      months: [
        '2025-04',
        '2025-05',
        '2025-06',
        '2025-07',
        '2025-08',
        '2025-09',
        '2025-10',
        '2025-11',
        '2025-12',
        '2026-01',
        '2026-02',
        '2026-03',
      ],
    });
    assert.deepEqual(financialYearOf('2026-04'), { key: '2026-27', months: ['2026-04'] });
  });

  it('finance sets budgets; a department reads its own only', async () => {
    const month = await call(finance, 'PUT', `/finance/budgets/${dept.A?.code}/month`, { amountCents: 1200 });
    assert.equal(month.status, 200, month.body);
    assert.deepEqual(month.json.thresholds, [80, 100]);
    const year = await call(finance, 'PUT', `/finance/budgets/${dept.A?.code}/year`, {
      amountCents: 10_000,
      thresholds: [50, 10],
    });
    assert.equal(year.status, 200, year.body);
    assert.deepEqual(year.json.thresholds, [10, 50]);
    assert.equal(
      (await call(finance, 'PUT', `/finance/budgets/${dept.B?.code}/month`, { amountCents: 999 })).status,
      200,
    );
    assert.equal(
      (await call(finance, 'PUT', `/finance/budgets/${dept.A?.code}/month`, { amountCents: 0 })).status,
      400,
    );
    const viewer = (await t.user('dept-viewer', dept.A?.code)).token;
    const own = await call(viewer, 'GET', '/finance/budgets');
    assert.equal(own.status, 200, own.body);
    assert.deepEqual(
      own.json.map((b: { department: string; period: string }) => `${b.department}/${b.period}`),
      [`${dept.A?.code}/month`, `${dept.A?.code}/year`],
    );
    // Nothing reserved since March: this month's and this year's spend are nothing.
    assert.equal(own.json[0].spentCents, 0);
    assert.equal((await call(viewer, 'GET', `/finance/budgets?department=${dept.B?.code}`)).status, 404);
    assert.equal(
      (await call(viewer, 'PUT', `/finance/budgets/${dept.A?.code}/month`, { amountCents: 5 })).status,
      403,
    );
    assert.equal((await call(finance, 'DELETE', `/finance/budgets/${dept.B?.code}/month`)).status, 204);
    assert.equal(
      (await call(finance, 'DELETE', `/finance/budgets/${dept.B?.code}/month`)).json.code,
      'GOVHOST_FINANCE_BUDGET_NOT_FOUND',
    );
  });

  it('tells each threshold once, when the spend reaches it', async () => {
    /*
     * 11 March 00:00: 240 h × 2 GB × 2 cents = 960 cents; 960 / 1,200 = 80 % of the monthly
     * budget (reached, not 100 %); the year 500 + 960 = 1,460 of 10,000 = 14.6 %: 10 % reached.
     */
    const a = dept.A?.code;
    assert.deepEqual(await checkBudgets(t.db, new Date('2026-03-11T00:00:00Z')), [
      { department: a, period: 'month', threshold: 80 },
      { department: a, period: 'year', threshold: 10 },
    ]);
    assert.deepEqual(await checkBudgets(t.db, new Date('2026-03-11T00:00:00Z')), [], 'told once');
    // 13 March 12:00: 300 h × 4 = 1,200 cents, 100 %; the year 1,700, 17 %: nothing new there.
    assert.deepEqual(await checkBudgets(t.db, new Date('2026-03-13T12:00:00Z')), [
      { department: a, period: 'month', threshold: 100 },
    ]);
    assert.deepEqual(
      await told(),
      [
        `${a} has spent HK$9.60 of its monthly budget of HK$12.00 for 2026-03: 80 % reached`,
        `${a} has spent HK$14.60 of its yearly budget of HK$100.00 for 2025-26: 10 % reached`,
        `${a} has spent HK$12.00 of its monthly budget of HK$12.00 for 2026-03: 100 % reached`,
      ].sort(),
    );
    // A raised budget is crossed anew: HK$20, 80 % at 1,600 cents (400 h, 17 March 16:00).
    assert.equal(
      (await call(finance, 'PUT', `/finance/budgets/${a}/month`, { amountCents: 2000 })).status,
      200,
    );
    assert.deepEqual(await checkBudgets(t.db, new Date('2026-03-17T15:00:00Z')), []);
    assert.deepEqual(await checkBudgets(t.db, new Date('2026-03-17T16:00:00Z')), [
      { department: a, period: 'month', threshold: 80 },
    ]);
    const audit = await t.db
      .selectFrom('audit_log')
      .select('action')
      .where('action', '=', 'finance-budget.alert')
      .execute();
    assert.equal(audit.length, 4);
  });
});
