import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestApp, testApp } from '../test-support/app.ts';
import { runCli } from '../test-support/server-process.ts';

// The CLI as people run it, one process per command, against the real API listening on loopback.
let t: TestApp;
let url: string;
let operator: string;
let deptUser: string;

function run(
  args: string[],
  token = operator,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCli(url, token, args);
}

async function ok(args: string[]): Promise<string> {
  const r = await run(args);
  assert.equal(r.code, 0, `govhost ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** The last month that is over, and its hours. */
const lastMonth = (() => {
  const now = new Date();
  const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1);
  const end = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  return { month: new Date(start).toISOString().slice(0, 7), hours: (end - start) / 3_600_000 };
})();

/*
 * Two active farms of 16 vCPU and 64 GB (100 W idle, 300 W at full load) since 2026-01-01; one
 * service holds 40 GB and 1 CPU on F1.
 */
describe('govhost capacity', () => {
  before(async () => {
    t = await testApp();
    url = await t.listen();
    const dept = await t.department('CAP');
    operator = (await t.user('operator')).token;
    deptUser = (await t.user('dept-admin', dept)).token;
    const res = await t.request(t.adminToken, {
      method: 'POST',
      url: '/api/v1/services',
      payload: {
        department: dept,
        slug: 'portal',
        nameEn: 'Portal',
        nameZh: '入口',
        origin: 'new',
        channels: ['web'],
        slaTier: 'silver',
      },
    });
    assert.equal(res.statusCode, 201, res.body);
    const ids: string[] = [];
    for (const code of ['F1', 'F2']) {
      const f = await t.db
        .insertInto('farms')
        .values({
          code,
          name: code,
          vcpu: 16,
          memory_mb: 65536,
          storage_gb: 0,
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
      ids.push(f.id);
    }
    const deptId = (
      await t.db.selectFrom('departments').select('id').where('code', '=', dept).executeTakeFirstOrThrow()
    ).id;
    await t.db
      .insertInto('reservations')
      .values({
        farm_id: ids[0] as string,
        service_id: res.json().id,
        department_id: deptId,
        slot: 0,
        memory_mb: 40960,
        cpu: 1,
      })
      .execute();
  });
  after(() => t.close());

  it('forecasts from demand lines added with the CLI', async () => {
    /*
     * 40 GB now, +20 GB each month 2027-01…04: 60, 80, 100, 120 GB against 128 GB; 80 % is
     * 102.4 GB, passed in 2027-04. New farm 1 (64 GB) in service by 2027-03, ordered 3 months
     * before: 2026-12, already past when the forecast starts in 2027-01.
     */
    // One line through the CLI, the rest through the API: each CLI process costs a second or more.
    const line = ['--kind', 'migration-wave', '--go-live', '2027-01', '--memory', '20480', '--cpu', '0.25'];
    await ok(['capacity', 'demand', 'add', ...line]);
    for (const goLive of ['2027-02', '2027-03', '2027-04']) {
      const r = await t.request(operator, {
        method: 'POST',
        url: '/api/v1/capacity/demand',
        payload: { kind: 'migration-wave', goLive, memoryMbPerInstance: 20480, cpuPerInstance: 0.25 },
      });
      assert.equal(r.statusCode, 201, r.body);
    }
    const out = await ok(['capacity', 'forecast', '--from', '2027-01', '--months', '4', '--lead', '3']);
    assert.match(out, /^2027-03 .* 78\.1 % .* commission new farm 1/m);
    assert.match(out, /^2027-04 .* 93\.8 % .* memory over 80 %/m);
    assert.match(out, /memory runs out: 2027-04/);
    assert.match(out, /new farm 1: order by 2026-12 \(late: order now\), in service by 2027-03/);
  });

  it('reports sharing and a month of energy', async () => {
    const out = await ok(['capacity', 'report', '--energy', '--month', lastMonth.month]);
    // The savings of sharing (decision 038), on F1's size filled to 80 % (51.2 GB): the department's
    // 40 GB service needs 1 farm alone; the pipeline lines of the test before, 4 × 20 GB at the
    // platform level, need 2 (two lines a farm). Pooled, 120 GB place as 40 | 20+20 | 20+20: 3.
    assert.match(out, /^\(platform\) .* 2$/m);
    assert.match(out, /farms if alone: 3/);
    assert.match(out, /farms shared: {3}3/);
    assert.match(out, /farms avoided: {2}0/);
    // Reserved 1 of 16 vCPU on F1: 100 + 200 × 1/16 = 112.5 W; F2 idles at 100 W.
    const kWh = (watts: number) => (watts * lastMonth.hours) / 1000;
    assert.match(out, new RegExp(`^F1 .* 6\\.3 % +112\\.5 +${kWh(112.5)} `, 'm'));
    assert.match(out, new RegExp(`^F2 .* 0\\.0 % +100 +${kWh(100)} `, 'm'));
    assert.match(
      out,
      new RegExp(`^${kWh(212.5)} kWh in ${lastMonth.month} on 2 farms, ${kWh(100)} kWh on idle farms$`, 'm'),
    );
  });

  it('removes a demand line, and refuses department users and bad options in one line', async () => {
    const list = (await t.request(operator, { method: 'GET', url: '/api/v1/capacity/demand' })).json();
    assert.equal(list.total, 4);
    await ok(['capacity', 'demand', 'remove', list.items[0].id]);
    const after = (await t.request(operator, { method: 'GET', url: '/api/v1/capacity/demand' })).json();
    assert.equal(after.total, 3);
    const denied = await run(['capacity', 'report'], deptUser);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /^govhost: .*GOVHOST_FORBIDDEN.*\n$/);
    const bad = await run(['capacity', 'forecast', '--target', '150']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--target .* must be a number from 5 to 100/);
  });
});
