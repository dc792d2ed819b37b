// Chargeback on a real store: reservations leave intervals behind (a trigger), a hand-computed
// month (a rate changed mid-month, a service created mid-month, one retired, requests and
// staging minutes), a rate card that
// never reprices the past, and departments that see only their own statements.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { recordStaging } from '../build/staging-usage.repository.ts';
import { type TestApp, testApp } from '../test-support/app.ts';

describe('chargeback', () => {
  let t: TestApp;
  let finance: string;
  const dept: Record<string, { code: string; id: string }> = {};
  const svc: Record<string, string> = {};
  const call = async (token: string, method: string, url: string, payload?: unknown) => {
    const res = await t.request(token, {
      method: method as 'GET',
      url: `/api/v1${url}`,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    const json = /json/.test(String(res.headers['content-type'])) && res.body ? res.json() : null;
    return { status: res.statusCode, json, body: res.body };
  };

  before(async () => {
    t = await testApp();
    finance = (await t.user('finance')).token;
    for (const d of ['A', 'B', 'C']) {
      const code = await t.department(`CB${d}`);
      const row = await t.db
        .selectFrom('departments')
        .select('id')
        .where('code', '=', code)
        .executeTakeFirstOrThrow();
      dept[d] = { code, id: row.id };
    }
    for (const [d, slug] of [
      ['A', 's1'],
      ['A', 's2'],
      ['A', 's3'],
      ['B', 'b1'],
      ['C', 'c1'],
    ] as const) {
      const res = await call(t.adminToken, 'POST', '/services', {
        department: dept[d]?.code,
        slug,
        nameEn: slug,
        nameZh: slug,
        origin: 'new',
        channels: ['web'],
        slaTier: 'silver',
      });
      assert.equal(res.status, 201, res.body);
      svc[slug] = res.json.id;
    }
  });
  after(() => t.close());

  it('keeps each change of a service’s reservations as an interval, one per transaction', async () => {
    const farm = await t.db
      .insertInto('farms')
      .values({
        code: 'CB1',
        name: 'Farm CB1',
        vcpu: 16,
        memory_mb: 65536,
        storage_gb: 100,
        idle_watts: 100,
        max_watts: 300,
        cost_hkd: 0,
        phase: 1,
        state: 'active',
        ordered_on: null,
        active_from: new Date('2026-01-01T00:00:00Z'),
        retired_on: null,
        cpu_overcommit: 1,
        memory_overcommit: 1,
        is_local: false,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const slot = (n: number) => ({
      farm_id: farm.id,
      service_id: svc.b1 as string,
      department_id: dept.B?.id as string,
      slot: n,
      memory_mb: 1024,
      cpu: 1,
      storage_mb: 512,
    });
    await t.db.transaction().execute(async (trx) => {
      await trx.insertInto('reservations').values(slot(0)).execute();
      await trx.insertInto('reservations').values(slot(1)).execute();
    });
    const open = await t.db
      .selectFrom('reservation_intervals')
      .selectAll()
      .where('service_id', '=', svc.b1 as string)
      .execute();
    assert.equal(open.length, 1);
    assert.deepEqual(
      [open[0]?.instances, Number(open[0]?.memory_mb), Number(open[0]?.cpu), open[0]?.valid_to],
      [2, 2048, 2, null],
    );
    await t.db
      .deleteFrom('reservations')
      .where('service_id', '=', svc.b1 as string)
      .execute();
    const closed = await t.db
      .selectFrom('reservation_intervals')
      .selectAll()
      .where('service_id', '=', svc.b1 as string)
      .execute();
    assert.equal(closed.length, 1);
    assert.ok(closed[0]?.valid_to instanceof Date);
  });

  it('prices a month by hand: a rate changed on the 16th, s2 created on the 11th, s3 retired on the 21st', async () => {
    const at = (d: string) => new Date(`2026-03-${d}T00:00:00Z`);
    const interval = (
      s: string,
      memoryMb: number,
      cpu: number,
      storageMb: number,
      from: Date,
      to: Date | null,
    ) => ({
      service_id: svc[s] as string,
      department_id: dept.A?.id as string,
      instances: 1,
      memory_mb: memoryMb,
      cpu,
      storage_mb: storageMb,
      valid_from: from,
      valid_to: to,
    });
    await t.db
      .insertInto('reservation_intervals')
      .values([
        interval('s1', 2048, 2, 2048, new Date('2026-02-01T00:00:00Z'), new Date('2026-04-02T00:00:00Z')),
        interval('s2', 2048, 1, 0, at('11'), null),
        interval('s3', 512, 0.5, 0, new Date('2026-02-10T00:00:00Z'), at('21')),
      ])
      .execute();
    // Requests answered, as monitoring counts them by the minute: s1 1,500 on the 10th and 500 on
    // the 20th, s3 250 on the 16th, s1 999 on 1 April (another month).
    const minute = (s: string, at: string, counts: { r2?: number; r4?: number; r5?: number }) => ({
      service_id: svc[s] as string,
      minute: new Date(at),
      probes_total: 0,
      probes_failed: 0,
      probe_ms_sum: 0,
      req_1xx: 0,
      req_2xx: counts.r2 ?? 0,
      req_3xx: 0,
      req_4xx: counts.r4 ?? 0,
      req_5xx: counts.r5 ?? 0,
      latency_buckets: [],
      latency_ms_sum: 0,
      instances_total: 1,
      instances_healthy: 1,
    });
    await t.db
      .insertInto('service_minutes')
      .values([
        minute('s1', '2026-03-10T12:00:00Z', { r2: 1_200, r5: 300 }),
        minute('s1', '2026-03-20T08:00:00Z', { r2: 500 }),
        minute('s3', '2026-03-16T00:00:00Z', { r4: 250 }),
        minute('s1', '2026-04-01T00:00:00Z', { r2: 999 }),
      ])
      .execute();
    // Stagings, as the stager records them when they end (src/build): s1 150 s on the 10th and
    // 105 s on the 20th, s2 250 s on the 11th; s3's failed one (not charged), s1's that ends on 1
    // April (another month), and B's b1 (another department).
    const staged = (
      s: string,
      d: string,
      from: string,
      to: string,
      outcome: 'staged' | 'failed' = 'staged',
    ) =>
      recordStaging(t.db, {
        releaseId: `rel-${s}-${from}`,
        serviceId: svc[s] as string,
        departmentId: (s === 'b1' ? dept.B?.id : dept.A?.id) as string,
        outcome,
        startedAt: new Date(`${d}T${from}Z`),
        finishedAt: new Date(`${d}T${to}Z`),
      });
    await staged('s1', '2026-03-10', '10:00:00', '10:02:30');
    await staged('s1', '2026-03-20', '09:00:00', '09:01:45');
    await staged('s2', '2026-03-11', '08:00:00', '08:04:10');
    await staged('s3', '2026-03-18', '12:00:00', '12:05:00', 'failed');
    await recordStaging(t.db, {
      releaseId: 'rel-s1-midnight',
      serviceId: svc.s1 as string,
      departmentId: dept.A?.id as string,
      outcome: 'staged',
      startedAt: new Date('2026-03-31T23:59:00Z'),
      finishedAt: new Date('2026-04-01T00:01:00Z'),
    });
    await staged('b1', '2026-03-12', '07:00:00', '07:10:00');
    // Rates set long ago (the API takes only today or later): memory 2 cents a GB-hour, 3 from
    // the 16th; CPU 10 cents an hour; disk 0.1 cent a GB-hour; requests 4 cents a thousand, 5
    // from the 16th; staging 1.5 cents a minute, 2 from the 16th.
    await t.db
      .insertInto('finance_rates')
      .values([
        { resource: 'memory-gb-hour', valid_from: '2026-01-01', cents_per_unit: 2, created_by: 'test' },
        { resource: 'memory-gb-hour', valid_from: '2026-03-16', cents_per_unit: 3, created_by: 'test' },
        { resource: 'cpu-hour', valid_from: '2026-01-01', cents_per_unit: 10, created_by: 'test' },
        { resource: 'storage-gb-hour', valid_from: '2026-01-01', cents_per_unit: 0.1, created_by: 'test' },
        { resource: 'request-thousand', valid_from: '2026-01-01', cents_per_unit: 4, created_by: 'test' },
        { resource: 'request-thousand', valid_from: '2026-03-16', cents_per_unit: 5, created_by: 'test' },
        { resource: 'staging-minute', valid_from: '2026-01-01', cents_per_unit: 1.5, created_by: 'test' },
        { resource: 'staging-minute', valid_from: '2026-03-16', cents_per_unit: 2, created_by: 'test' },
      ])
      .execute();
    const r = await call(finance, 'GET', `/finance/statements?department=${dept.A?.code}&month=2026-03`);
    assert.equal(r.status, 200, r.body);
    const s = r.json;
    assert.equal(s.partial, false);
    const line = (service: string, resource: string, from: string) =>
      s.lines.find(
        (l: { service: string; resource: string; rateFrom: string }) =>
          l.service === `${dept.A?.code}/${service}` && l.resource === resource && l.rateFrom === from,
      )?.amountCents;
    /*
     * March: 744 h; 1st-16th 360 h, 16th-end 384 h.
     * s1 (2 GB, 2 CPU, 2 GB disk, all month): memory 2×360×2 = 1,440 + 2×384×3 = 2,304; CPU
     *   2×744×10 = 14,880; disk 2×744×0.1 = 148.8 → 149.
     * s2 (2 GB, 1 CPU from the 11th: 504 h): memory 2×120×2 = 480 + 2,304; CPU 5,040.
     * s3 (0.5 GB, 0.5 CPU to the 21st: 480 h): memory 0.5×360×2 = 360 + 0.5×120×3 = 180; CPU 2,400.
     * Requests: s1 1.5 thousand × 4 = 6, 0.5 × 5 = 2.5 → 3; s3 0.25 × 5 = 1.25 → 1 (April's 999 not).
     * Staging, by the day each ended: s1 150 s = 2.5 min × 1.5 = 3.75 → 4, 105 s = 1.75 min × 2
     *   = 3.5 → 4; s2 250 s = 4.1667 min × 1.5 = 6.25 → 6 (s3's failed 300 s, s1's ending on
     *   1 April and B's b1 not): 14.
     * Total 29,547 + 14 = 29,561 cents, HK$295.61.
     */
    assert.equal(line('s1', 'memory-gb-hour', '2026-01-01'), 1_440);
    assert.equal(line('s1', 'memory-gb-hour', '2026-03-16'), 2_304);
    assert.equal(line('s1', 'cpu-hour', '2026-01-01'), 14_880);
    assert.equal(line('s1', 'storage-gb-hour', '2026-01-01'), 149);
    assert.equal(line('s2', 'memory-gb-hour', '2026-01-01'), 480);
    assert.equal(line('s2', 'memory-gb-hour', '2026-03-16'), 2_304);
    assert.equal(line('s2', 'cpu-hour', '2026-01-01'), 5_040);
    assert.equal(line('s3', 'memory-gb-hour', '2026-01-01'), 360);
    assert.equal(line('s3', 'memory-gb-hour', '2026-03-16'), 180);
    assert.equal(line('s3', 'cpu-hour', '2026-01-01'), 2_400);
    assert.equal(line('s1', 'request-thousand', '2026-01-01'), 6);
    assert.equal(line('s1', 'request-thousand', '2026-03-16'), 3);
    assert.equal(line('s3', 'request-thousand', '2026-03-16'), 1);
    assert.equal(line('s1', 'staging-minute', '2026-01-01'), 4);
    assert.equal(line('s1', 'staging-minute', '2026-03-16'), 4);
    assert.equal(line('s2', 'staging-minute', '2026-01-01'), 6);
    const minutes = (service: string) =>
      s.lines
        .filter(
          (l: { service: string; resource: string }) =>
            l.service === `${dept.A?.code}/${service}` && l.resource === 'staging-minute',
        )
        .map((l: { quantity: number }) => l.quantity);
    assert.deepEqual([minutes('s1'), minutes('s2'), minutes('s3')], [[2.5, 1.75], [4.167], []]);
    // B's staging is B's alone: nothing of b1 on A's statement.
    assert.ok(!s.lines.some((l: { service: string }) => l.service.endsWith('/b1')));
    assert.equal(s.lines.length, 16);
    assert.equal(s.totalCents, 29_561);
    assert.equal(s.unpricedHours, 0);
  });

  it('adds a rate from today on, never in the past', async () => {
    const past = await call(finance, 'POST', '/finance/rates', {
      resource: 'cpu-hour',
      validFrom: '2026-03-01',
      centsPerUnit: 99,
    });
    assert.equal(past.status, 422, past.body);
    assert.match(past.json.detail, /the past keeps the prices it had/);
    const next = await call(finance, 'POST', '/finance/rates', {
      resource: 'cpu-hour',
      validFrom: '2099-01-01',
      centsPerUnit: 12,
    });
    assert.equal(next.status, 201, next.body);
    assert.equal(next.json.filter((r: { resource: string }) => r.resource === 'cpu-hour').length, 2);
    // March is priced as before.
    const r = await call(finance, 'GET', `/finance/statements?department=${dept.A?.code}&month=2026-03`);
    assert.equal(r.json.totalCents, 29_561);
    assert.equal(
      (await call(t.adminToken, 'GET', `/finance/statements?department=${dept.A?.code}&month=2099-01`))
        .status,
      422,
    );
  });

  it("shows a department's admin and viewer their own statement only", async () => {
    for (const role of ['dept-admin', 'dept-viewer'] as const) {
      const { token } = await t.user(role, dept.A?.code);
      const own = await call(token, 'GET', `/finance/statements?department=${dept.A?.code}&month=2026-03`);
      assert.equal(own.status, 200, own.body);
      assert.equal(own.json.totalCents, 29_561);
      // The console's download link: the same statement as CSV, its last line the total.
      const csv = await call(
        token,
        'GET',
        `/finance/statements?department=${dept.A?.code}&month=2026-03&format=csv`,
      );
      assert.equal(csv.status, 200, csv.body);
      assert.match(
        csv.body,
        /^department,month,service,resource,rate_from,cents_per_unit,quantity,amount_cents\r\n/,
      );
      assert.ok(csv.body.endsWith(`${dept.A?.code},2026-03,total,,,,,29561\r\n`), csv.body);
      assert.ok(
        csv.body.includes(
          `${dept.A?.code},2026-03,${dept.A?.code}/s1,staging-minute,2026-03-16,2,1.75,4\r\n`,
        ),
        csv.body,
      );
      const other = await call(token, 'GET', `/finance/statements?department=${dept.B?.code}&month=2026-03`);
      assert.equal(other.status, 404, `${role}: ${other.body}`);
      assert.equal(
        (
          await call(token, 'POST', '/finance/rates', {
            resource: 'cpu-hour',
            validFrom: '2099-02-01',
            centsPerUnit: 1,
          })
        ).status,
        403,
      );
    }
    const dev = await t.user('dept-developer', dept.A?.code);
    assert.equal(
      (await call(dev.token, 'GET', `/finance/statements?department=${dept.A?.code}&month=2026-03`)).status,
      403,
    );
  });

  it('closes a month as it stands; a later correction is an adjustment in an open month', async () => {
    const url = `/finance/statements?department=${dept.A?.code}&month=2026-03`;
    // C's c1 reserves nothing and only answers requests: 2,000 on 5 March (2 × 4 = 8 cents).
    const requests = (day: string, count: number) =>
      t.db
        .insertInto('service_minutes')
        .values({
          service_id: svc.c1 as string,
          minute: new Date(`${day}T12:00:00Z`),
          probes_total: 0,
          probes_failed: 0,
          probe_ms_sum: 0,
          req_1xx: 0,
          req_2xx: count,
          req_3xx: 0,
          req_4xx: 0,
          req_5xx: 0,
          latency_buckets: [],
          latency_ms_sum: 0,
          instances_total: 1,
          instances_healthy: 1,
        })
        .execute();
    await requests('2026-03-05', 2_000);
    const closed = await call(finance, 'POST', '/finance/months/2026-03/close');
    assert.equal(closed.status, 200, closed.body);
    // B reserved nothing in March but staged b1 (600 s = 10 min × 1.5 = 15 cents), C only
    // answered requests: both kept too.
    assert.deepEqual(closed.json, { month: '2026-03', departments: 3, totalCents: 29_561 + 15 + 8 });
    assert.equal(
      (await call(finance, 'POST', '/finance/months/2026-03/close')).json.code,
      'GOVHOST_FINANCE_MONTH_CLOSED',
    );
    assert.equal((await call(finance, 'POST', '/finance/months/2999-01/close')).status, 422);
    // Late data for March changes nothing in the closed statement.
    await t.db
      .insertInto('reservation_intervals')
      .values({
        service_id: svc.s2 as string,
        department_id: dept.A?.id as string,
        instances: 1,
        memory_mb: 1024,
        cpu: 1,
        storage_mb: 0,
        valid_from: new Date('2026-03-01T00:00:00Z'),
        valid_to: new Date('2026-03-02T00:00:00Z'),
      })
      .execute();
    await requests('2026-03-06', 5_000);
    const march = await call(finance, 'GET', url);
    assert.deepEqual([march.json.closed, march.json.totalCents], [true, 29_561]);
    const c = await call(finance, 'GET', `/finance/statements?department=${dept.C?.code}&month=2026-03`);
    assert.deepEqual([c.json.closed, c.json.totalCents], [true, 8]);
    const refused = await call(finance, 'POST', '/finance/adjustments', {
      department: dept.A?.code,
      month: '2026-03',
      amountCents: -537,
      reason: 'late data',
    });
    assert.equal(refused.status, 409, refused.body);
    const april = await call(finance, 'POST', '/finance/adjustments', {
      department: dept.A?.code,
      month: '2026-04',
      forMonth: '2026-03',
      amountCents: -537,
      reason: 'credit for the March outage',
    });
    assert.equal(april.status, 201, april.body);
    const lines = april.json.lines.reduce((s: number, l: { amountCents: number }) => s + l.amountCents, 0);
    assert.equal(april.json.totalCents, lines - 537);
    assert.deepEqual(
      april.json.adjustments.map((a: { forMonth: string; amountCents: number }) => [
        a.forMonth,
        a.amountCents,
      ]),
      [['2026-03', -537]],
    );
    const viewer = await t.user('dept-viewer', dept.A?.code);
    const seen = await call(
      viewer.token,
      'GET',
      `/finance/statements?department=${dept.A?.code}&month=2026-04`,
    );
    assert.equal(seen.json.totalCents, april.json.totalCents);
    const { token } = await t.user('dept-admin', dept.A?.code);
    assert.equal((await call(token, 'POST', '/finance/months/2026-04/close')).status, 403);
  });

  it("expects next year's charge from the pipeline at the card's rates", async () => {
    const line = await call(t.adminToken, 'POST', '/capacity/demand', {
      kind: 'hosting-request',
      department: dept.B?.code,
      services: 1,
      instancesPerService: 2,
      memoryMbPerInstance: 1024,
      cpuPerInstance: 1,
      goLive: '2027-10',
    });
    assert.equal(line.status, 201, line.body);
    const r = await call(finance, 'GET', `/finance/expected-charge?department=${dept.B?.code}&year=2027-28`);
    assert.equal(r.status, 200, r.body);
    /*
     * Live from October 2027 to March 2028: 31+30+31+31+29+31 = 183 days = 4,392 h; 2 CPU at 10
     * cents = 87,840; 2 GB at 3 cents (the rate from 2026-03-16) = 26,352: 114,192 cents.
     */
    assert.deepEqual(
      r.json.months.map((m: { cpu: number }) => m.cpu),
      [0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2],
    );
    assert.equal(r.json.totalCents, 114_192);
    assert.equal(r.json.unpriced, false);
    const { token } = await t.user('dept-viewer', dept.A?.code);
    assert.equal(
      (await call(token, 'GET', `/finance/expected-charge?department=${dept.B?.code}&year=2027-28`)).status,
      404,
    );
    assert.equal(
      (await call(finance, 'GET', `/finance/expected-charge?department=${dept.B?.code}&year=2027-29`)).status,
      422,
    );
  });
});
