import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { usageByServiceBetween } from '../monitoring/metrics.repository.ts';
import { type TestApp, testApp } from '../test-support/app.ts';
import { addPlannedDemand, removePlannedDemand } from './demand.logic.ts';
import { farmEnergy, farmPower, hoursInService } from './energy.ts';

const MB = 1024 * 1024;

/*
 * The platform every test below reads, written straight into the capacity tables:
 *
 *   farm  state    vCPU  memory            idle/max W  in service from
 *   F1    active   16    64 GB (× 1.5 mem overcommit)  200/500  2026-01-01
 *   F2    active   16    64 GB             100/300     2026-03-16
 *   F3    planned  16    64 GB             100/300     2027-06-01
 *
 *   service  farm  slots  memory MB        CPU
 *   A/a1     F1    2      2 × 32768        2 × 2
 *   A/a2     F2    1      4096             1
 *   B/b1     F1    1      16384            4
 *   C/c1     F2    1      40960            3
 */
describe('capacity reports', () => {
  let t: TestApp;
  let op: string;
  let finance: string;
  let deptUser: string;
  const dept: Record<string, string> = {};
  const svc: Record<string, string> = {};
  const farm: Record<string, string> = {};

  const get = (token: string, url: string) => t.request(token, { method: 'GET', url });

  before(async () => {
    t = await testApp();
    op = (await t.user('operator')).token;
    finance = (await t.user('finance')).token;
    for (const d of ['A', 'B', 'C']) dept[d] = await t.department(d);
    deptUser = (await t.user('dept-admin', dept.A)).token;
    for (const [d, slug] of [
      ['A', 'a1'],
      ['A', 'a2'],
      ['B', 'b1'],
      ['C', 'c1'],
    ] as const) {
      const res = await t.request(t.adminToken, {
        method: 'POST',
        url: '/api/v1/services',
        payload: {
          department: dept[d],
          slug,
          nameEn: slug,
          nameZh: slug,
          origin: 'new',
          channels: ['web'],
          slaTier: 'silver',
        },
      });
      assert.equal(res.statusCode, 201, res.body);
      svc[slug] = res.json().id;
    }
    const farms = [
      { code: 'F1', idle: 200, max: 500, from: '2026-01-01', state: 'active', memOver: 1.5 },
      { code: 'F2', idle: 100, max: 300, from: '2026-03-16', state: 'active', memOver: 1 },
      { code: 'F3', idle: 100, max: 300, from: '2027-06-01', state: 'planned', memOver: 1 },
    ] as const;
    for (const f of farms) {
      const row = await t.db
        .insertInto('farms')
        .values({
          code: f.code,
          name: `Farm ${f.code}`,
          vcpu: 16,
          memory_mb: 65536,
          storage_gb: 1000,
          idle_watts: f.idle,
          max_watts: f.max,
          cost_hkd: 0,
          phase: 1,
          state: f.state,
          ordered_on: null,
          active_from: new Date(`${f.from}T00:00:00Z`),
          retired_on: null,
          cpu_overcommit: 1,
          memory_overcommit: f.memOver,
          is_local: false,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      farm[f.code] = row.id;
    }
    const deptIds = Object.fromEntries(
      (await t.db.selectFrom('departments').select(['id', 'code']).execute()).map((r) => [r.code, r.id]),
    );
    const slots: [string, string, string, number, number, number][] = [
      ['a1', 'A', 'F1', 0, 32768, 2],
      ['a1', 'A', 'F1', 1, 32768, 2],
      ['a2', 'A', 'F2', 0, 4096, 1],
      ['b1', 'B', 'F1', 0, 16384, 4],
      ['c1', 'C', 'F2', 0, 40960, 3],
    ];
    await t.db
      .insertInto('reservations')
      .values(
        slots.map(([s, d, f, slot, mem, cpu]) => ({
          service_id: svc[s] as string,
          department_id: deptIds[dept[d] as string] as string,
          farm_id: farm[f] as string,
          slot,
          memory_mb: mem,
          cpu,
        })),
      )
      .execute();
  });
  after(() => t.close());

  /** Writes `n` minutes of one instance ending before `end`, each with `cpuSeconds` and `memMiB`. */
  async function minutes(
    service: string,
    instance: string,
    end: Date,
    n: number,
    cpuSeconds: number,
    memMiB: number,
  ) {
    const rows = Array.from({ length: n }, (_, i) => ({
      service_id: svc[service] as string,
      instance_id: instance,
      minute: new Date(Math.floor(end.getTime() / 60_000) * 60_000 - (i + 1) * 60_000),
      cpu_seconds: cpuSeconds,
      memory_max_bytes: memMiB * MB,
      memory_limit_bytes: 512 * MB,
      restarts: 0,
      state: 'running',
    }));
    await t.db.insertInto('instance_minutes').values(rows).execute();
  }

  it('measures recent use per service: average CPU and peak memory, added over instances', async () => {
    // a1 has two instances over the last 10 minutes: 30 s and 6 s of CPU a minute, 100 and 50 MiB.
    // CPU = (30 + 6) / 60 = 0.6 of a CPU; memory = 150 MiB.
    const now = new Date();
    await minutes('a1', 'a1-i1', now, 10, 30, 100);
    await minutes('a1', 'a1-i2', now, 10, 6, 50);
    const u = await usageByServiceBetween(
      t.db,
      [svc.a1 as string, svc.b1 as string],
      new Date(now.getTime() - 3_600_000),
      new Date(now.getTime() + 60_000),
    );
    assert.deepEqual(u.get(svc.a1 as string), { cpu: 0.6, memoryBytes: 150 * MB });
    assert.equal(u.has(svc.b1 as string), false);
  });

  it('reports sharing per farm and the farms sharing avoided', async () => {
    const res = await get(op, '/api/v1/capacity/sharing');
    assert.equal(res.statusCode, 200, res.body);
    const r = res.json();
    // F3 is planned and empty: not shown.
    assert.deepEqual(
      r.farms.map((f: { code: string }) => f.code),
      ['F1', 'F2'],
    );
    const [f1, f2] = r.farms;
    assert.deepEqual([f1.services, f1.instances, f1.reserved], [2, 3, { cpu: 8, memoryMb: 81920 }]);
    // 8 of 16 vCPU; 81920 of 65536 MB = 125 % (F1 overcommits memory 1.5×).
    assert.deepEqual(f1.reservedShare, { cpu: 0.5, memory: 1.25 });
    assert.deepEqual(f1.measured, { servicesMeasured: 1, cpu: 0.6, memoryMb: 150 });
    assert.deepEqual([f2.services, f2.instances, f2.reserved], [2, 2, { cpu: 4, memoryMb: 45056 }]);
    assert.deepEqual(f2.reservedShare, { cpu: 0.25, memory: 0.6875 });
    assert.deepEqual(f2.usedOfReserved, { cpu: null, memory: null });
    assert.equal(r.totals.services, 4);
    assert.equal(r.totals.instances, 5);
    assert.equal(r.totals.servicesPerActiveFarm, 2);
    // 126976 of 131072 MB.
    assert.equal(r.totals.reservedShare.memory, 0.9688);
    /*
     * The reference farm is the median active one, F2 (64 GB, 16 vCPU), filled to 80 %: 52,428.8 MB
     * and 12.8 CPU. Alone, A's two 32 GB slots cannot share a farm (65,536 MB): 2 farms; B 1, C 1.
     * Shared, the 126,976 MB need ⌈126,976 / 52,428.8⌉ = 3 farms, and placement fits them in 3
     * (40 + 4 GB, 32 + 16 GB, 32 GB): 4 against 3.
     */
    assert.deepEqual(
      r.departments.map((d: { department: string; farmsAlone: number }) => [d.department, d.farmsAlone]),
      [
        [dept.A, 2],
        [dept.B, 1],
        [dept.C, 1],
      ],
    );
    assert.equal(r.standalone.referenceFarm.memoryMb, 65536);
    assert.equal(r.standalone.target, 0.8);
    assert.equal(r.standalone.farmsIfAlone, 4);
    assert.equal(r.standalone.farmsShared, 3);
    assert.equal(r.standalone.farmsAvoided, 1);
    // The farms have no cost recorded: the paper's HK$3.3M each.
    assert.equal(r.standalone.costPerFarmHkd, 3_300_000);
    assert.equal(r.standalone.costAvoidedHkd, 3_300_000);
  });

  it('computes power and energy by hand', () => {
    assert.equal(farmPower(200, 500, 0.5), 350);
    assert.equal(farmPower(200, 500, 1.7), 500);
    assert.equal(
      hoursInService({ state: 'active', activeFrom: '2026-03-16', retiredOn: null }, '2026-03', new Date()),
      384,
    );
    assert.equal(
      hoursInService(
        { state: 'retired', activeFrom: '2020-01-01', retiredOn: '2026-02-11' },
        '2026-02',
        new Date(),
      ),
      240,
    );
    assert.equal(
      hoursInService({ state: 'planned', activeFrom: '2026-01-01', retiredOn: null }, '2026-03', new Date()),
      0,
    );
    // 100 W idle, 300 W full, 1.2 of 16 vCPU busy: 100 + 200 × 0.075 = 115 W; × 10 h = 1.15 kWh,
    // shared 2 : 1 by CPU.
    const e = farmEnergy({ vcpu: 16, idleWatts: 100, maxWatts: 300 }, 10, [
      { key: 'x', cpu: 0.8 },
      { key: 'y', cpu: 0.4 },
    ]);
    assert.ok(Math.abs(e.watts - 115) < 1e-9);
    assert.ok(Math.abs(e.kWh - 1.15) < 1e-9);
    assert.ok(Math.abs((e.shares[0]?.kWh ?? 0) - 1.15 * (2 / 3)) < 1e-9);
  });

  it('reports a month of energy per farm, measured where it can and reserved where it must', async () => {
    /*
     * March 2026 has 744 hours.
     * F1 (all month): b1 has no measurements, so reservations: 8 of 16 vCPU → 200 + 300 × 0.5 =
     *   350 W × 744 h = 260.4 kWh, a1 and b1 half each (4 CPU reserved each): 130.2 kWh.
     * F2 (from 16 March: 16 days = 384 h): a2 and c1 both measured in March: 0.8 + 0.4 = 1.2 of
     *   16 vCPU → 100 + 200 × 0.075 = 115 W × 384 h = 44.16 kWh; a2 2/3 = 29.44, c1 1/3 = 14.72.
     */
    const end = new Date('2026-03-20T12:00:00Z');
    await minutes('a2', 'a2-i1', end, 60, 48, 200);
    await minutes('c1', 'c1-i1', end, 60, 24, 300);
    const res = await get(finance, '/api/v1/capacity/energy?month=2026-03');
    assert.equal(res.statusCode, 200, res.body);
    const r = res.json();
    assert.equal(r.hoursInMonth, 744);
    assert.equal(r.partial, false);
    const [f1, f2] = r.farms;
    assert.deepEqual(
      [f1.code, f1.basis, f1.hours, f1.utilisation, f1.watts, f1.kWh],
      ['F1', 'reserved', 744, 0.5, 350, 260.4],
    );
    assert.deepEqual(
      f1.services.map((s: { service: string; kWh: number }) => [s.service, s.kWh]),
      [
        [`${dept.A}/a1`, 130.2],
        [`${dept.B}/b1`, 130.2],
      ],
    );
    assert.deepEqual(
      [f2.code, f2.basis, f2.hours, f2.cpu, f2.utilisation, f2.watts, f2.kWh],
      ['F2', 'measured', 384, 1.2, 0.075, 115, 44.16],
    );
    assert.deepEqual(
      f2.services.map((s: { service: string; share: number; kWh: number }) => [s.service, s.share, s.kWh]),
      [
        [`${dept.A}/a2`, 0.6667, 29.44],
        [`${dept.C}/c1`, 0.3333, 14.72],
      ],
    );
    assert.equal(r.farms.length, 2, 'the planned farm draws nothing');
    assert.equal(r.totals.kWh, 304.56);
  });

  it('keeps a demand pipeline with audit, and takes lines from provisioning by source', async () => {
    const add = (token: string, payload: object) =>
      t.request(token, { method: 'POST', url: '/api/v1/capacity/demand', payload });
    const wave = await add(op, {
      kind: 'migration-wave',
      services: 1,
      instancesPerService: 2,
      memoryMbPerInstance: 4096,
      cpuPerInstance: 0.5,
      goLive: '2027-02',
      note: 'EGIS wave 1',
    });
    assert.equal(wave.statusCode, 201, wave.body);
    assert.deepEqual(
      [wave.json().totalMemoryMb, wave.json().totalCpu, wave.json().scenario, wave.json().department],
      [8192, 1, null, null],
    );
    const audit = await t.db
      .selectFrom('audit_log')
      .select('action')
      .where('target_id', '=', wave.json().id)
      .execute();
    assert.deepEqual(
      audit.map((a) => a.action),
      ['demand.create'],
    );

    // Provisioning's hooks: a line per hosting request, replaced when added again, then removed.
    const deptId = (
      await t.db
        .selectFrom('departments')
        .select('id')
        .where('code', '=', dept.B as string)
        .executeTakeFirstOrThrow()
    ).id;
    const item = {
      kind: 'hosting-request' as const,
      departmentId: deptId,
      services: 1,
      instancesPerService: 1,
      memoryMbPerInstance: 1024,
      cpuPerInstance: 0.25,
      goLive: '2027-01',
      sourceId: 'req-1',
    };
    await t.db.transaction().execute((tx) => addPlannedDemand(tx, item));
    await t.db.transaction().execute((tx) => addPlannedDemand(tx, { ...item, memoryMbPerInstance: 2048 }));
    let list = (await get(op, `/api/v1/capacity/demand?kind=hosting-request&department=${dept.B}`)).json();
    assert.equal(list.total, 1);
    assert.deepEqual(
      [list.items[0].memoryMbPerInstance, list.items[0].sourceId, list.items[0].department],
      [2048, 'req-1', dept.B],
    );
    assert.equal(await t.db.transaction().execute((tx) => removePlannedDemand(tx, 'req-1')), 1);
    list = (await get(op, '/api/v1/capacity/demand')).json();
    assert.equal(list.total, 1);

    const del = await t.request(op, { method: 'DELETE', url: `/api/v1/capacity/demand/${wave.json().id}` });
    assert.equal(del.statusCode, 204);
    const again = await t.request(op, { method: 'DELETE', url: `/api/v1/capacity/demand/${wave.json().id}` });
    assert.equal(again.statusCode, 404);
    assert.equal(again.json().code, 'GOVHOST_DEMAND_NOT_FOUND');
  });

  it('forecasts the baseline and a what-if scenario through the API', async () => {
    /*
     * Effective capacity: F1 64 GB × 1.5 = 96 GB, F2 64 GB: 163840 MB; 80 % = 131072 MB.
     * Reserved: 126976 MB, 12 CPU. Baseline: a wave of 2 × 4096 MB from 2027-02 → 135168 MB,
     * over 131072: memory runs out in 2027-02. The reference farm is the lower median of
     * (65536, 98304) = 64 GB / 16 vCPU: new farm 1 is in service by 2027-01, ordered 2026-10
     * (before the forecast's first month: late). F3 (planned) comes in 2027-06.
     * Scenario "surge": 20 services × 4096 MB in 2027-03 → 217088 MB, over 0.8 × 229376 =
     * 183500.8: new farm 2 for 2027-03, in service by 2027-02, ordered 2026-11.
     */
    const add = (payload: object) =>
      t.request(op, { method: 'POST', url: '/api/v1/capacity/demand', payload });
    const base = {
      kind: 'migration-wave',
      services: 1,
      instancesPerService: 2,
      memoryMbPerInstance: 4096,
      cpuPerInstance: 0.5,
      goLive: '2027-02',
    };
    assert.equal((await add(base)).statusCode, 201);
    assert.equal(
      (
        await add({
          ...base,
          services: 20,
          instancesPerService: 1,
          cpuPerInstance: 0.25,
          goLive: '2027-03',
          scenario: 'surge',
        })
      ).statusCode,
      201,
    );

    const res = await get(op, '/api/v1/capacity/forecast?from=2027-01&months=6&target=0.8&leadMonths=3');
    assert.equal(res.statusCode, 200, res.body);
    const f = res.json();
    assert.deepEqual(f.referenceFarm, { code: 'F2', vcpu: 16, memoryMb: 65536, storageGb: 1000 });
    assert.deepEqual(f.runsOut, { memory: '2027-02', cpu: null, storage: null });
    assert.deepEqual(
      f.series.map((m: { memory: { demandMb: number } }) => m.memory.demandMb),
      [126976, 135168, 135168, 135168, 135168, 135168],
    );
    assert.deepEqual(
      f.series.map((m: { farmsActive: number }) => m.farmsActive),
      [2, 2, 2, 2, 2, 3],
    );
    assert.deepEqual(
      f.recommendations.map(
        (r: { neededFor: string; commissionBy: string; orderBy: string; late: boolean }) => [
          r.neededFor,
          r.commissionBy,
          r.orderBy,
          r.late,
        ],
      ),
      [['2027-02', '2027-01', '2026-10', true]],
    );
    assert.deepEqual(f.scheduledFarms, [
      { code: 'F3', state: 'planned', orderedOn: null, activeFrom: '2027-06-01' },
    ]);

    const what = (await get(op, '/api/v1/capacity/forecast?from=2027-01&months=6&scenario=surge')).json();
    assert.equal(what.scenario, 'surge');
    assert.equal(what.series[2].memory.demandMb, 217088);
    assert.equal(what.series[2].cpu.demand, 18);
    assert.deepEqual(
      what.recommendations.map((r: { neededFor: string; orderBy: string }) => [r.neededFor, r.orderBy]),
      [
        ['2027-02', '2026-10'],
        ['2027-03', '2026-11'],
      ],
    );
    // A target that sizes the work without bound is refused before any work (it once looped for ever).
    for (const target of ['5e-324', '0', '0.01', '1.5']) {
      const bad = await get(op, `/api/v1/capacity/forecast?months=1&leadMonths=0&target=${target}`);
      assert.equal(bad.statusCode, 400, target);
      assert.match(bad.json().detail, /target/);
    }
    const none = await get(op, '/api/v1/capacity/forecast?scenario=nosuch');
    assert.equal(none.statusCode, 404);
    assert.equal(none.json().code, 'GOVHOST_SCENARIO_NOT_FOUND');
  });

  it('keeps the reports to the central team: department users get 403, finance cannot change demand', async () => {
    for (const url of [
      '/api/v1/capacity/sharing',
      '/api/v1/capacity/forecast',
      '/api/v1/capacity/energy?month=2026-03',
      '/api/v1/capacity/demand',
    ]) {
      const res = await get(deptUser, url);
      assert.equal(res.statusCode, 403, url);
      assert.equal(res.json().code, 'GOVHOST_FORBIDDEN');
    }
    const payload = { kind: 'growth', growthPctPerMonth: 2, goLive: '2027-01' };
    for (const token of [deptUser, finance]) {
      const res = await t.request(token, { method: 'POST', url: '/api/v1/capacity/demand', payload });
      assert.equal(res.statusCode, 403);
    }
    assert.equal((await get(finance, '/api/v1/capacity/demand')).statusCode, 200);
  });

  it('refuses bad input with a precise 400 and writes nothing', async () => {
    const before = (await get(op, '/api/v1/capacity/demand')).json().total;
    for (const url of [
      '/api/v1/capacity/forecast?months=0',
      '/api/v1/capacity/forecast?target=150',
      '/api/v1/capacity/forecast?from=2026-13',
      '/api/v1/capacity/energy?month=2026-13',
      '/api/v1/capacity/energy',
      '/api/v1/capacity/sharing?hours=0',
    ]) {
      const res = await get(op, url);
      assert.equal(res.statusCode, 400, `${url}: ${res.body}`);
      assert.equal(res.json().code, 'GOVHOST_VALIDATION');
    }
    for (const [payload, field] of [
      [{ kind: 'growth', goLive: '2027-01' }, 'body/growthPctPerMonth'],
      [{ kind: 'growth', growthPctPerMonth: 2, services: 3, goLive: '2027-01' }, 'body/services'],
      [{ kind: 'migration-wave', goLive: '2027-01', memoryMbPerInstance: 512 }, 'body/cpuPerInstance'],
      [
        { kind: 'hosting-request', goLive: '2027-1', memoryMbPerInstance: 512, cpuPerInstance: 1 },
        'body/goLive',
      ],
      [{ kind: 'rumour', goLive: '2027-01' }, 'body/kind'],
    ] as const) {
      const res = await t.request(op, { method: 'POST', url: '/api/v1/capacity/demand', payload });
      assert.equal(res.statusCode, 400, res.body);
      assert.ok(
        res.json().errors.some((e: { field: string }) => e.field === field),
        `${JSON.stringify(payload)}: ${res.body}`,
      );
    }
    const unknownDept = await t.request(op, {
      method: 'POST',
      url: '/api/v1/capacity/demand',
      payload: { kind: 'growth', growthPctPerMonth: 1, goLive: '2027-01', department: 'NOSUCH' },
    });
    assert.equal(unknownDept.statusCode, 404);
    assert.equal((await get(op, '/api/v1/capacity/demand')).json().total, before);
  });
});
