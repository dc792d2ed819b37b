// The migration programme through the API on a real store (PGlite, or PostgreSQL when the run
// says so): waves, the inventory, the one transition table (a 409 names what is allowed), CSV
// import all or nothing with errors by line and column, the burndown, and isolation: one
// department neither sees nor touches another's items.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestApp, testApp } from '../test-support/app.ts';

describe('the migration programme', () => {
  let t: TestApp;
  let a: string;
  let b: string;
  let devA: string;
  let devB: string;
  let viewerA: string;
  let operator: string;
  const call = async (token: string, method: string, url: string, payload?: unknown) => {
    const res = await t.request(token, {
      method: method as 'GET',
      url: `/api/v1${url}`,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    return { status: res.statusCode, json: res.body ? res.json() : null, body: res.body };
  };
  const move = (token: string, id: string, to: string, reason?: string) =>
    call(token, 'POST', `/migration/items/${id}/move`, { to, ...(reason ? { reason } : {}) });

  before(async () => {
    t = await testApp();
    a = await t.department('MA');
    b = await t.department('MB');
    devA = (await t.user('dept-developer', a)).token;
    devB = (await t.user('dept-developer', b)).token;
    viewerA = (await t.user('dept-viewer', a)).token;
    operator = (await t.user('operator')).token;
    const svc = await call(devA, 'POST', '/services', {
      department: a,
      slug: 'licences',
      nameEn: 'Licences',
      nameZh: '牌照',
      origin: 'migrated',
      egisRef: 'EGIS-0100',
      channels: ['web'],
      slaTier: 'silver',
    });
    assert.equal(svc.status, 201, svc.body);
  });
  after(() => t.close());

  it('operators plan waves; a department may not; bad dates are 422', async () => {
    const w1 = await call(operator, 'PUT', '/migration/waves/1', {
      name: 'Wave 1',
      plannedStart: '2030-01-01',
      plannedEnd: '2030-06-30',
    });
    assert.equal(w1.status, 201, w1.body);
    const again = await call(operator, 'PUT', '/migration/waves/1', {
      name: 'Wave one',
      plannedStart: '2030-01-01',
      plannedEnd: '2030-06-30',
    });
    assert.equal(again.status, 200, again.body);
    assert.equal(again.json.name, 'Wave one');
    const w2 = await call(operator, 'PUT', '/migration/waves/2', {
      name: 'Wave 2',
      plannedStart: '2030-07-01',
      plannedEnd: '2030-12-31',
    });
    assert.equal(w2.status, 201, w2.body);
    const denied = await call(devA, 'PUT', '/migration/waves/3', {
      name: 'mine',
      plannedStart: '2030-01-01',
      plannedEnd: '2030-02-01',
    });
    assert.equal(denied.status, 403);
    const backwards = await call(operator, 'PUT', '/migration/waves/3', {
      name: 'Wave 3',
      plannedStart: '2031-02-01',
      plannedEnd: '2031-01-01',
    });
    assert.equal(backwards.status, 422);
    assert.match(backwards.json.detail, /plannedEnd 2031-01-01 is before plannedStart 2031-02-01/);
  });

  it('inventories an item with its target service; moves it through the one table, audited', async () => {
    const created = await call(devA, 'POST', '/migration/items', {
      ref: 'EGIS-0100',
      name: 'Licence renewal',
      sourcePlatform: 'EGIS',
      legacyUrl: 'https://egis.example/licences',
      contacts: ['Chan Tai Man <chan@example.gov>'],
      technology: 'Java servlets, Oracle',
      dataSizeGb: 12.5,
      complexity: 'medium',
      targetService: 'licences',
      wave: 1,
      plannedOn: '2030-03-15',
    });
    assert.equal(created.status, 201, created.body);
    const id = `${a}/EGIS-0100`;
    assert.equal(created.json.id, id);
    assert.equal(created.json.state, 'inventoried');
    assert.equal(created.json.targetService, `${a}/licences`);
    assert.deepEqual(created.json.nextStates, ['assessed', 'blocked']);

    const skip = await move(devA, id, 'migrating');
    assert.equal(skip.status, 409);
    assert.equal(skip.json.code, 'GOVHOST_MIGRATION_TRANSITION');
    assert.deepEqual(skip.json.allowed, ['assessed', 'blocked']);
    assert.match(
      skip.json.detail,
      /is inventoried; it cannot move to migrating \(allowed: assessed, blocked\)/,
    );

    assert.equal((await move(viewerA, id, 'assessed')).status, 403, 'a viewer reads only');
    const noReason = await move(devA, id, 'blocked');
    assert.equal(noReason.status, 422);
    const blocked = await move(devA, id, 'blocked', 'waiting for the vendor’s data export');
    assert.equal(blocked.status, 200, blocked.body);
    assert.deepEqual(blocked.json.nextStates, ['inventoried'], 'a blocked item resumes where it stood');
    assert.equal(blocked.json.blockedReason, 'waiting for the vendor’s data export');
    for (const to of ['inventoried', 'assessed', 'scheduled', 'migrating', 'parallel-run', 'cut-over']) {
      const r = await move(devA, id, to);
      assert.equal(r.status, 200, `${to}: ${r.body}`);
      assert.equal(r.json.state, to);
    }
    const item = await call(viewerA, 'GET', `/migration/items/${id}`);
    assert.equal(item.status, 200);
    assert.ok(item.json.cutOverAt);
    assert.deepEqual(
      item.json.steps.map((s: { to: string }) => s.to),
      [
        'inventoried',
        'blocked',
        'inventoried',
        'assessed',
        'scheduled',
        'migrating',
        'parallel-run',
        'cut-over',
      ],
    );
    const audited = await t.db
      .selectFrom('audit_log')
      .select(['action', 'after'])
      .where('target_id', '=', id)
      .orderBy('seq')
      .execute();
    assert.equal(audited[0]?.action, 'migration-item.create');
    assert.equal(audited.filter((r) => r.action === 'migration-item.move').length, 7);
    // Falling back from cut-over puts its traffic back on the legacy platform.
    const back = await move(devA, id, 'parallel-run');
    assert.equal(back.json.cutOverAt, null);
    assert.equal((await move(devA, id, 'cut-over')).status, 200);
  });

  it('scheduling needs a wave; a planned day outside its wave is refused', async () => {
    const outside = await call(devA, 'POST', '/migration/items', {
      ref: 'EGIS-0200',
      name: 'Outside',
      sourcePlatform: 'EGIS',
      complexity: 'low',
      wave: 2,
      plannedOn: '2030-03-01',
    });
    assert.equal(outside.status, 422);
    assert.match(outside.json.detail, /plannedOn 2030-03-01 is outside wave 2 \(2030-07-01 to 2030-12-31\)/);
    const loose = await call(devA, 'POST', '/migration/items', {
      ref: 'EGIS-0200',
      name: 'No wave yet',
      sourcePlatform: 'EGIS',
      complexity: 'low',
      dependsOn: ['EGIS-0100'],
    });
    assert.equal(loose.status, 201, loose.body);
    assert.deepEqual(loose.json.dependsOn, [{ item: `${a}/EGIS-0100`, state: 'cut-over' }]);
    await move(devA, `${a}/EGIS-0200`, 'assessed');
    const noWave = await move(devA, `${a}/EGIS-0200`, 'scheduled');
    assert.equal(noWave.status, 422);
    assert.match(noWave.json.detail, /wave is required to schedule an item/);
    const placed = await call(devA, 'PATCH', `/migration/items/${a}/EGIS-0200`, { wave: 2 });
    assert.equal(placed.status, 200, placed.body);
    assert.equal((await move(devA, `${a}/EGIS-0200`, 'scheduled')).status, 200);
  });

  it('imports CSV all or nothing, naming each error by line and column', async () => {
    const header =
      'ref,name,source_platform,complexity,legacy_url,contacts,data_size_gb,wave,planned_on,depends_on,target_service';
    const bad = [
      header,
      'C-1,Forms,EGIS,low,https://egis.example/forms,a@x;b@x,3,1,2030-02-01,,',
      'C-2,"Quoted, with comma",EGIS,extreme,ftp://egis.example/,,-1,9,2030-13-01,C-9,nope',
      'C-1,Duplicate,EGIS,low,,,,,,,',
      'C-3,Too few,EGIS',
      'C-4,Depends on nothing known,EGIS,low,,,,,,C-9,',
    ].join('\n');
    const refused = await call(devA, 'POST', '/migration/items/import', { csv: bad });
    assert.equal(refused.status, 422, refused.body);
    assert.equal(refused.json.code, 'GOVHOST_MIGRATION_CSV');
    const errs = refused.json.rowErrors.map(
      (e: { line: number; column: string | null }) => `${e.line}:${e.column}`,
    );
    for (const want of [
      '3:complexity',
      '3:legacy_url',
      '3:data_size_gb',
      '3:wave',
      '3:planned_on',
      '3:target_service',
      '4:ref',
      '5:null',
      '6:depends_on',
    ])
      assert.ok(errs.includes(want), `${want} in ${JSON.stringify(refused.json.rowErrors)}`);
    const none = await call(devA, 'GET', '/migration/items?limit=500');
    assert.equal(none.json.total, 2, 'nothing of a refused file is written');

    const good = [
      header,
      'C-1,Forms,EGIS,low,https://egis.example/forms,a@x;b@x,3,1,2030-02-01,C-2,',
      'C-2,"Quoted, with comma",EGIS,HIGH,,,,2,,EGIS-0100,licences',
    ].join('\r\n');
    const imported = await call(devA, 'POST', '/migration/items/import', { csv: good });
    assert.equal(imported.status, 201, imported.body);
    assert.deepEqual(imported.json.items, [`${a}/C-1`, `${a}/C-2`]);
    const c1 = await call(devA, 'GET', `/migration/items/${a}/C-1`);
    assert.deepEqual(c1.json.contacts, ['a@x', 'b@x']);
    assert.deepEqual(c1.json.dependsOn, [{ item: `${a}/C-2`, state: 'inventoried' }]);
    const twice = await call(devA, 'POST', '/migration/items/import', { csv: good });
    assert.equal(twice.status, 422);
    assert.match(twice.json.detail, /line 2 ref: .*C-1 is inventoried already/);
  });

  it('a department neither sees nor touches another department’s items; operators see all', async () => {
    const own = await call(devB, 'POST', '/migration/items', {
      ref: 'B-1',
      name: 'B service',
      sourcePlatform: 'EGIS',
      complexity: 'low',
    });
    assert.equal(own.status, 201, own.body);
    const listB = await call(devB, 'GET', '/migration/items?limit=500');
    assert.deepEqual(
      listB.json.items.map((i: { id: string }) => i.id),
      [`${b}/B-1`],
    );
    assert.equal((await call(devB, 'GET', `/migration/items/${a}/EGIS-0100`)).status, 404);
    assert.equal((await move(devB, `${a}/EGIS-0100`, 'decommissioned')).status, 404);
    assert.equal((await call(devB, 'PATCH', `/migration/items/${a}/EGIS-0100`, { name: 'x' })).status, 404);
    assert.equal((await call(devB, 'GET', `/migration/items?department=${a}`)).status, 404);
    const intoA = await call(devB, 'POST', '/migration/items', {
      department: a,
      ref: 'B-2',
      name: 'x',
      sourcePlatform: 'EGIS',
      complexity: 'low',
    });
    assert.equal(intoA.status, 422);
    const depOnA = await call(devB, 'POST', '/migration/items', {
      ref: 'B-3',
      name: 'x',
      sourcePlatform: 'EGIS',
      complexity: 'low',
      dependsOn: [`${a}/EGIS-0100`],
    });
    assert.equal(depOnA.status, 422);
    assert.doesNotMatch(depOnA.body, /cut-over|Licence/, 'nothing of the other department is told');
    const csvIntoA = await call(devB, 'POST', '/migration/items/import', {
      csv: `department,ref,name,source_platform,complexity\n${a},B-4,x,EGIS,low`,
    });
    assert.equal(csvIntoA.status, 422);
    const burnB = await call(devB, 'GET', '/migration/burndown');
    assert.equal(burnB.json.overall.total, 1);
    assert.deepEqual(
      burnB.json.departments.map((d: { department: string }) => d.department),
      [b],
    );
    const wavesB = await call(devB, 'GET', '/migration/waves');
    assert.deepEqual(
      wavesB.json.map((w: { items: number }) => w.items),
      [0, 0],
      'waves are shared; the counts are of the caller’s own items',
    );
    const all = await call(operator, 'GET', '/migration/items?limit=500');
    assert.equal(all.json.total, 5);
    assert.equal((await move(operator, `${b}/B-1`, 'assessed')).status, 200);
  });

  it('burns down planned against actual, per wave, with the month each department leaves', async () => {
    const burn = await call(operator, 'GET', `/migration/burndown?department=${a}`);
    assert.equal(burn.status, 200, burn.body);
    const { overall, waves, departments } = burn.json;
    assert.equal(overall.total, 4);
    assert.equal(overall.remaining, 3, 'EGIS-0100 is cut over');
    const month = (m: string) => overall.months.find((x: { month: string }) => x.month === m);
    // Planned: C-1 leaves 2030-02, EGIS-0100 2030-03; EGIS-0200 and C-2 at wave 2's end.
    assert.equal(month('2030-02').plannedRemaining, 3);
    assert.equal(month('2030-03').plannedRemaining, 2);
    assert.equal(month('2030-12').plannedRemaining, 0);
    const thisMonth = new Date().toISOString().slice(0, 7);
    assert.equal(overall.months[0].month, thisMonth, 'the actual cut-over, this month, starts the curve');
    assert.equal(overall.months[0].actualRemaining, 3);
    assert.equal(month('2030-12').actualRemaining, null, 'no actual figure in the future');
    assert.deepEqual(
      waves.map((w: { number: number; total: number }) => [w.number, w.total]),
      [
        [1, 2],
        [2, 2],
      ],
    );
    assert.deepEqual(departments, [
      { department: a, items: 4, remaining: 3, plannedLastMonth: '2030-12', actualLastMonth: null },
    ]);
  });
});
