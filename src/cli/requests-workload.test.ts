// test-seconds: 45
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MIGRATION_WAVES, paperWorkload } from '../provisioning/paper-workload.ts';
import { type TestApp, testApp } from '../test-support/app.ts';
import { runCli } from '../test-support/server-process.ts';

// The CLI as people run it, one process per command, against the real API on loopback. The
// paper's workload includes its migration programme: 118 EGIS services in three waves (34, 14
// and 70, April 2012 to March 2015), whose burndown follows that timetable.
let t: TestApp;
let url: string;
let dept: string;
let developer: string;
let operator: string;

function run(
  token: string,
  ...args: string[]
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCli(url, token, args);
}

async function ok(token: string, ...args: string[]) {
  const r = await run(token, ...args);
  assert.equal(r.code, 0, `govhost ${args.join(' ')}: ${r.stderr}`);
  return r;
}

const goLive = new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10);

describe('govhost requests and govhost workload load-paper', () => {
  before(async () => {
    t = await testApp();
    url = await t.listen();
    dept = await t.department('CLI');
    developer = (await t.user('dept-developer', dept)).token;
    operator = (await t.user('operator')).token;
  });
  after(() => t.close());

  it('asks for hosting, queues it without capacity, and an operator approves it', async () => {
    const asked = await ok(
      developer,
      '--json',
      'requests',
      'new',
      '--slug',
      'clinic-booking',
      '--name-en',
      'Clinic Booking',
      '--name-zh',
      '預約診症',
      '--tier',
      'silver',
      '--instances',
      '2',
      '--memory',
      '512M',
      '--go-live',
      '+60d', // relative, as the README writes it: days from today
      '--channels',
      'web,mobile',
      '--personalised',
    );
    const r = JSON.parse(asked.stdout);
    // The day may have turned while the command ran.
    assert.ok([goLive, new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10)].includes(r.goLive));
    assert.equal(r.state, 'pending');
    assert.match(r.reasons[0], /^insufficient capacity/);

    const list = await ok(operator, 'requests', '--state', 'pending');
    assert.match(list.stdout, new RegExp(`${dept}/clinic-booking .*insufficient capacity`));
    const refused = await run(operator, 'requests', 'approve', r.id);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /insufficient capacity.*GOVHOST_INSUFFICIENT_CAPACITY/);

    await t.db
      .insertInto('farms')
      .values({
        code: 'CLI-1',
        name: 'CLI farm',
        vcpu: 16,
        memory_mb: 16384,
        storage_gb: 100,
        idle_watts: 100,
        max_watts: 300,
        cost_hkd: 0,
        phase: 1,
        state: 'active',
        ordered_on: null,
        active_from: null,
        retired_on: null,
        cpu_overcommit: 1,
        memory_overcommit: 1,
        is_local: false,
      })
      .execute();
    const approved = await ok(operator, 'requests', 'approve', r.id);
    assert.match(
      approved.stdout,
      new RegExp(
        `^Approved ${dept}/clinic-booking: ready at clinic-booking\\.${dept.toLowerCase()}\\.localhost`,
      ),
    );
    const shown = await ok(developer, 'requests', 'show', r.id);
    assert.match(shown.stdout, /^state: +approved$/m);
    assert.match(shown.stdout, /^lead time: +\d/m);
    const times = await ok(developer, 'requests', 'lead-times');
    assert.match(times.stdout, /^MONTH +PROVISIONED +MEDIAN +P90$/m);
    assert.match(times.stdout, /^all +1 /m);

    const bad = await run(
      developer,
      'requests',
      'new',
      '--slug',
      'x1',
      '--name-en',
      'X',
      '--name-zh',
      'X',
      '--tier',
      'silver',
      '--instances',
      '1',
      '--memory',
      '256M',
      '--go-live',
      '01/03/2027',
    );
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--go-live must be a date written YYYY-MM-DD/);
  });

  it('loads the paper workload once (dry run first), and a second run changes nothing', async () => {
    const refused = await run(operator, 'workload', 'load-paper', '--dry-run');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /only a platform administrator/);

    const dry = JSON.parse((await ok(t.adminToken, '--json', 'workload', 'load-paper', '--dry-run')).stdout);
    const count = (j: { tallies: { kind: string; created: number; existing: number }[] }, kind: string) =>
      j.tallies.find((x) => x.kind === kind);
    assert.equal(count(dry, 'departments')?.created, 20);
    assert.equal(count(dry, 'services')?.created, 218);
    const { n } = await t.db
      .selectFrom('departments')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(Number(n), 1, 'a dry run creates nothing');

    const loaded = await ok(t.adminToken, 'workload', 'load-paper');
    assert.match(loaded.stdout, /^departments +20 +20 +0/m);
    assert.match(loaded.stdout, /^services +218 +218 +0/m);
    assert.match(loaded.stdout, /^migration waves +3 +3 +0/m);
    assert.match(loaded.stdout, /^migration items +118 +118 +0/m);
    assert.match(loaded.stderr, /services: 218\/218/);
    const services = await t.db
      .selectFrom('services')
      .select(['origin', 'channels', 'personalised', 'lifecycle'])
      .execute();
    const paper = services.filter((s) => s.lifecycle === 'planned');
    assert.equal(paper.filter((s) => s.origin === 'migrated').length, 118);
    // 100 new from the paper, and the one approved above.
    assert.equal(paper.filter((s) => s.origin === 'new').length, 101);
    // Their expected sizes are planned demand from their go-live months: every service counted once.
    const demand = await t.db
      .selectFrom('planned_demand')
      .select(['kind', 'services', 'go_live'])
      .where('note', 'like', 'paper:%')
      .execute();
    const total = (kind: string) => demand.filter((d) => d.kind === kind).reduce((n, d) => n + d.services, 0);
    assert.equal(total('migration-wave'), 118);
    assert.equal(total('hosting-request'), 100);
    assert.ok(
      demand.every((d) => d.go_live >= '2012-01' && d.go_live <= '2015-03'),
      JSON.stringify(demand),
    );

    const again = await ok(t.adminToken, 'workload', 'load-paper');
    assert.match(again.stdout, /^services +218 +0 +218/m);
    assert.match(again.stdout, /^migration items +118 +0 +118/m);
    assert.match(again.stdout, /Nothing changed: the workload was loaded already\./);
    assert.equal(
      (await t.db.selectFrom('planned_demand').select('id').where('note', 'like', 'paper:%').execute())
        .length,
      demand.length,
      'no demand line twice',
    );
    assert.equal((await t.db.selectFrom('services').select('id').execute()).length, 219);
  });

  it('the loaded paper has 118 migration items in its waves, and a burndown that follows its timetable', async () => {
    const waves = JSON.parse((await ok(t.adminToken, '--json', 'migration', 'waves')).stdout);
    assert.deepEqual(
      waves.map((w: { number: number; plannedStart: string; plannedEnd: string; items: number }) => [
        w.number,
        w.plannedStart,
        w.plannedEnd,
        w.items,
      ]),
      MIGRATION_WAVES.map((w) => [w.wave, w.from, w.to, w.services]),
    );
    const items = JSON.parse((await ok(t.adminToken, '--json', 'migration', 'items', '--all')).stdout).items;
    assert.equal(items.length, 118);
    const paper = new Map(
      paperWorkload()
        .services.filter((s) => s.egisRef)
        .map((s) => [`${s.department}/${s.egisRef}`, s]),
    );
    for (const i of items) {
      const s = paper.get(i.id);
      assert.ok(s, `${i.id} is an EGIS service of the paper`);
      assert.equal(i.state, 'inventoried');
      assert.equal(i.wave, s.wave);
      assert.equal(i.plannedOn, s.goLive);
      assert.equal(i.targetService, `${s.department}/${s.slug}`);
    }

    const burn = JSON.parse((await ok(t.adminToken, '--json', 'migration', 'burndown')).stdout);
    const at = (m: string) => burn.overall.months.find((x: { month: string }) => x.month === m);
    assert.equal(burn.overall.total, 118);
    assert.equal(burn.overall.months[0].month >= '2012-04', true);
    // At each wave's end, the paper's count of services has left EGIS: 34, 34 + 14, all 118.
    assert.equal(at('2013-03').plannedRemaining, 118 - 34);
    assert.equal(at('2014-03').plannedRemaining, 118 - 34 - 14);
    assert.equal(at('2015-03').plannedRemaining, 0);
    assert.equal(burn.overall.months.at(-1).month, '2015-03');
    assert.equal(at('2015-03').actualRemaining, 118, 'nothing has actually moved');
    assert.deepEqual(
      burn.waves.map((w: { total: number }) => w.total),
      [34, 14, 70],
    );
    assert.equal(burn.departments.length, 20);
    for (const d of burn.departments) {
      const last = [...paper.values()]
        .filter((s) => s.department === d.department)
        .map((s) => s.goLive.slice(0, 7))
        .sort()
        .at(-1);
      assert.equal(d.plannedLastMonth, last, d.department);
    }
    const text = await ok(t.adminToken, 'migration', 'burndown', '--wave', '2');
    assert.match(
      text.stdout,
      /^2014-03 +0 +14$/m,
      "wave 2's last month: none planned left, 14 actually left",
    );
  });
});
