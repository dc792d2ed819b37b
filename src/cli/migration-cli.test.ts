// `govhost migration …` and the paper's programme, as people run them: one CLI process per
// command against the real API on loopback. `workload load-paper` inventories the 118 EGIS
// services in the paper's three waves (34, 14 and 70 services, April 2012 to March 2015), and the
// burndown follows that timetable; a second load changes nothing.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MIGRATION_WAVES, paperWorkload } from '../provisioning/paper-workload.ts';
import { type TestApp, testApp } from '../test-support/app.ts';
import { runCli } from '../test-support/server-process.ts';

let t: TestApp;
let url: string;
let dir: string;

async function ok(token: string, ...args: string[]) {
  const r = await runCli(url, token, args);
  assert.equal(r.code, 0, `govhost ${args.join(' ')}: ${r.stderr}`);
  return r;
}

describe('govhost migration and the paper’s programme', () => {
  before(async () => {
    t = await testApp();
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const address = t.app.server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    dir = await mkdtemp(join(tmpdir(), 'govhost-migration-cli-'));
  });
  after(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('load-paper inventories 118 items in the paper’s waves; the burndown follows its timetable', async () => {
    const loaded = await ok(t.adminToken, 'workload', 'load-paper');
    assert.match(loaded.stdout, /^migration waves +3 +3 +0/m);
    assert.match(loaded.stdout, /^migration items +118 +118 +0/m);

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

    const again = await ok(t.adminToken, 'workload', 'load-paper');
    assert.match(again.stdout, /^migration items +118 +0 +118/m);
    assert.match(again.stdout, /Nothing changed/);
  });

  it('moves an item, says what is allowed when a move is not, and imports a CSV with its errors', async () => {
    const dept = await t.department('MC');
    const dev = (await t.user('dept-developer', dept)).token;
    const bad = join(dir, 'bad.csv');
    await writeFile(bad, 'ref,name,source_platform,complexity\nX-1,Forms,EGIS,huge\nX-2,,EGIS,low\n');
    const refused = await runCli(url, dev, ['migration', 'import', bad]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /2 error\(s\), nothing imported/);
    assert.match(refused.stderr, /line 2 complexity: "huge" is not one of low, medium, high/);
    assert.match(refused.stderr, /line 3 name: must be 1-200 characters/);
    const good = join(dir, 'good.csv');
    await writeFile(good, 'ref,name,source_platform,complexity\nX-1,Forms,EGIS,low\n');
    assert.match(
      (await ok(dev, 'migration', 'import', good)).stdout,
      new RegExp(`Imported 1 items: ${dept}/X-1`),
    );
    const wrong = await runCli(url, dev, ['migration', 'move', 'X-1', 'cut-over']);
    assert.equal(wrong.code, 1);
    assert.match(
      wrong.stderr,
      /X-1 is inventoried; it cannot move to cut-over \(allowed: assessed, blocked\)/,
    );
    assert.match(
      (await ok(dev, 'migration', 'move', 'X-1', 'assessed')).stdout,
      /is assessed; next: scheduled, inventoried, blocked/,
    );
    const shown = await ok(dev, 'migration', 'show', 'X-1');
    assert.match(shown.stdout, /inventoried → assessed/);
    const mine = JSON.parse((await ok(dev, '--json', 'migration', 'items')).stdout);
    assert.deepEqual(
      mine.items.map((i: { id: string }) => i.id),
      [`${dept}/X-1`],
      'a department lists its own items only',
    );
  });
});
