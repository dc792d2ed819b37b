import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { farmStateOn, ILLUSTRATIVE, paperWorkload } from './paper-workload.ts';

describe("the paper's workload (data)", () => {
  const w = paperWorkload();
  const migrated = w.services.filter((s) => s.origin === 'migrated');
  const fresh = w.services.filter((s) => s.origin === 'new');

  it('has the counts of the paper: 20 departments, 118 migrated, 100 new (80 mobile, 20 personalised), 22 farms', () => {
    assert.equal(w.departments.length, 20);
    assert.equal(new Set(w.departments.map((d) => d.code)).size, 20);
    assert.equal(migrated.length, 118);
    assert.equal(fresh.length, 100);
    assert.equal(fresh.filter((s) => s.channels.includes('mobile')).length, 80);
    assert.equal(fresh.filter((s) => s.personalised).length, 20);
    assert.equal(w.farms.length, 22);
    assert.equal(new Set(w.farms.map((f) => f.code)).size, 22);
    // Every department hosts services on EGIS today (118 services of 20 B/Ds).
    assert.equal(new Set(migrated.map((s) => s.department)).size, 20);
  });

  it('follows the timetable: 20 new by October 2012, the rest and every migration by March 2015', () => {
    const byOct2012 = fresh.filter((s) => s.goLive <= '2012-10-31');
    assert.equal(byOct2012.length, 20);
    assert.ok(fresh.every((s) => s.goLive >= '2012-04-01' && s.goLive <= '2015-03-31'));
    assert.ok(migrated.every((s) => s.goLive >= '2012-04-01' && s.goLive <= '2015-03-31'));
    assert.deepEqual(
      [1, 2, 3].map((wave) => migrated.filter((s) => s.wave === wave).length),
      [34, 14, 70],
    );
    assert.deepEqual(
      [1, 2, 3, 4].map((phase) => w.farms.filter((f) => f.phase === phase).length),
      [6, 9, 5, 2],
    );
    assert.equal(farmStateOn(w.farms[0]!, '2011-04-15'), 'planned');
    assert.equal(farmStateOn(w.farms[0]!, '2011-12-01'), 'ordered');
    assert.equal(farmStateOn(w.farms[21]!, '2026-01-01'), 'active');
  });

  it('is plausible, labelled illustrative, unique and the same every time', () => {
    const keys = w.services.map((s) => `${s.department}/${s.slug}`);
    assert.equal(new Set(keys).size, 218);
    for (const s of w.services) {
      assert.match(s.slug, /^[a-z][a-z0-9-]{0,38}[a-z0-9]$/);
      assert.ok(s.description.startsWith(ILLUSTRATIVE), s.slug);
      assert.equal(s.egisRef === null, s.origin === 'new');
    }
    assert.deepEqual(migrated.map((s) => s.egisRef).slice(0, 2), ['EGIS-0001', 'EGIS-0002']);
    assert.ok(
      w.departments.every((d) => d.nameEn.endsWith('(illustrative)') && d.nameZh.endsWith('（示例）')),
    );
    assert.ok(w.farms.every((f) => f.name.includes('illustrative')));
    assert.deepEqual(paperWorkload(), w);
    assert.notDeepEqual(paperWorkload(7).services, w.services);
  });
});
