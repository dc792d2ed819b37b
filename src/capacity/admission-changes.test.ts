// Changes that move a running service's capacity go through admission like deploys and scales do:
// a change of SLA tier (gold spreads over two farms), an environment-only redeploy, and storage
// (a release's disk_quota, a hosting request's expected disk) held on the farms and forecast.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, testApp } from '../test-support/app.ts';
import { type AdmissionHarness, admissionHarness, type Json, serviceFields } from './capacity.fixtures.ts';

let t: TestApp;
let h: AdmissionHarness;
let operator: string;
let dept: string;
let dev: string;

const farm = (code: string, memoryMb: number, storageGb: number) =>
  h.inject(operator, 'POST', '/farms', {
    code,
    vcpu: 8,
    memoryMb,
    storageGb,
    idleWatts: 100,
    maxWatts: 300,
    state: 'active',
  });

const service = (slug: string, tier: string) => h.newService(dev, dept, slug, tier);

const farmCodes = async (serviceId: string) => {
  const rows = await t.db
    .selectFrom('reservations')
    .innerJoin('farms', 'farms.id', 'reservations.farm_id')
    .select(['farms.code', 'reservations.slot'])
    .where('reservations.service_id', '=', serviceId)
    .orderBy('reservations.slot')
    .execute();
  return rows.map((r) => r.code);
};

const unmetFor = (serviceId: string) =>
  t.db.selectFrom('unmet_demand').selectAll().where('service_id', '=', serviceId).orderBy('at').execute();

before(async () => {
  t = await testApp();
  h = await admissionHarness(t);
  operator = (await t.user('operator')).token;
  dept = await t.department('ADM');
  dev = (await t.user('dept-developer', dept)).token;
  // A: room for several instances; B: 256 MB, too small for any 512 MB instance until enlarged.
  assert.equal((await farm('ADM-A', 4096, 100)).status, 201);
  assert.equal((await farm('ADM-B', 256, 100)).status, 201);
});
after(() => t.close());

describe('a change of SLA tier goes through admission', () => {
  let id: string;

  before(async () => {
    id = await service('portal', 'silver');
    const d = await h.deploy(dev, `${dept}/portal`, await h.bundle(2, '512M'));
    assert.equal(d.status, 202, JSON.stringify(d.json));
    await h.markLive(id, d.json.deployment.id, { instances: 2, memoryMb: 512 });
  });

  test('to gold with no second farm to spread over: 409, nothing changed, recorded as unmet', async () => {
    assert.deepEqual(await farmCodes(id), ['ADM-A', 'ADM-A']);
    const before = await h.footprint(id);
    const res = await h.inject(dev, 'PATCH', `/services/${dept}/portal`, {
      slaTier: 'gold',
      nameEn: 'Portal',
    });
    assert.equal(res.status, 409, JSON.stringify(res.json));
    assert.equal(res.json.code, 'GOVHOST_INSUFFICIENT_CAPACITY');
    assert.equal(
      res.json.detail,
      'insufficient capacity: no farm left to hold instance 2 of 2 apart from the others (512 MB, 1 CPU, 1024 MB of storage each; the service must be spread over 2 farms)',
    );
    assert.deepEqual(await h.footprint(id), before);
    const shown = (await h.inject(dev, 'GET', `/services/${dept}/portal`)).json;
    assert.deepEqual([shown.slaTier, shown.nameEn], ['silver', 'portal']);
    const unmet = await unmetFor(id);
    assert.deepEqual(
      unmet.map((u) => [u.services, u.instances, u.memory_mb, u.storage_mb, u.reason]),
      [[0, 2, 512, 1024, res.json.detail]],
    );
  });

  test('to gold once a second farm has room: its instances are placed again over two farms', async () => {
    assert.equal((await h.inject(operator, 'PATCH', '/farms/ADM-B', { memoryMb: 4096 })).status, 200);
    const res = await h.inject(dev, 'PATCH', `/services/${dept}/portal`, { slaTier: 'gold' });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.slaTier, 'gold');
    assert.deepEqual((await farmCodes(id)).sort(), ['ADM-A', 'ADM-B']);
    // A change that is not of tier leaves the slots where they are.
    const slots = (await h.footprint(id)).slots;
    assert.equal(
      (await h.inject(dev, 'PATCH', `/services/${dept}/portal`, { nameEn: 'Portal' })).status,
      200,
    );
    assert.deepEqual((await h.footprint(id)).slots, slots);
  });
});

describe('an environment-only redeploy goes through admission', () => {
  test('admitted on what the platform has; refused with the variables as they were when it no longer fits', async () => {
    const id = (await h.inject(dev, 'GET', `/services/${dept}/portal`)).json.id as string;
    const ok = await h.inject(dev, 'PATCH', `/services/${dept}/portal/env`, { set: { GREETING: 'hello' } });
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    assert.equal(ok.json.deployment.kind, 'env');
    assert.deepEqual(h.started.slice(-1), ['rollout portal']);
    await h.markLive(id, ok.json.deployment.id, { instances: 2, memoryMb: 512 });
    assert.deepEqual((await farmCodes(id)).sort(), ['ADM-A', 'ADM-B']);

    // Farm B shrinks below one instance (an operator correcting its figures): a gold service
    // started anew no longer has two farms to stand on.
    assert.equal((await h.inject(operator, 'PATCH', '/farms/ADM-B', { memoryMb: 256 })).status, 200);
    const before = await h.footprint(id);
    const calls = h.started.length;
    const refused = await h.inject(dev, 'PATCH', `/services/${dept}/portal/env`, {
      set: { GREETING: 'bye' },
    });
    assert.equal(refused.status, 409, JSON.stringify(refused.json));
    assert.equal(refused.json.code, 'GOVHOST_INSUFFICIENT_CAPACITY');
    assert.match(refused.json.detail, /apart from the others/);
    assert.deepEqual(await h.footprint(id), before);
    assert.equal(h.started.length, calls, 'nothing rolled out');
    const vars = (await h.inject(dev, 'GET', `/services/${dept}/portal/env`)).json.items;
    assert.deepEqual(
      vars.map((v: Json) => [v.key, v.value]),
      [['GREETING', 'hello']],
    );
    assert.equal((await unmetFor(id)).length, 2);
    assert.equal((await h.inject(operator, 'PATCH', '/farms/ADM-B', { memoryMb: 4096 })).status, 200);
  });
});

describe('storage', () => {
  test("a release's disk_quota is reserved per instance on the farm, and refused where no farm has it", async () => {
    const id = await service('archive', 'bronze');
    // 100 GB farms: two 60 GB disks fit, one on each; a third has nowhere to go.
    const big = await h.deploy(dev, `${dept}/archive`, await h.bundle(3, '256M', '    disk_quota: 60G\n'));
    assert.equal(big.status, 409, JSON.stringify(big.json));
    assert.equal(big.json.code, 'GOVHOST_INSUFFICIENT_CAPACITY');
    assert.equal(
      big.json.detail,
      'insufficient capacity: no active farm has 256 MB of memory, 1 CPU and 61440 MB of storage free for instance 3 of 3',
    );
    assert.equal((await h.footprint(id)).reservations, 0);

    const ok = await h.deploy(dev, `${dept}/archive`, await h.bundle(2, '256M', '    disk_quota: 30G\n'));
    assert.equal(ok.status, 202, JSON.stringify(ok.json));
    const slots = (await h.footprint(id)).slots as { storage_mb: number }[];
    assert.deepEqual(
      slots.map((s) => s.storage_mb),
      [30720, 30720],
    );
    const farms = (await h.inject(operator, 'GET', '/farms')).json.items as Json[];
    const reserved = farms
      .filter((f) => f.code.startsWith('ADM-'))
      .reduce((sum, f) => sum + f.reserved.storageMb, 0);
    // portal: 2 × 1024 MB (the default disk_quota); archive: 2 × 30 GB.
    assert.equal(reserved, 2 * 1024 + 2 * 30720);
  });

  test("a hosting request's expected disk is planned demand while it waits, and reserved once provisioned", async () => {
    const goLive = new Date(Date.now() + 40 * 86_400_000).toISOString().slice(0, 10);
    const ask = (slug: string, storageMb: number) =>
      h.inject(dev, 'POST', '/requests', {
        ...serviceFields(slug, 'bronze'),
        instances: 1,
        memoryMb: 256,
        storageMb,
        goLive,
      });
    // Farm A holds 61 GB (portal's 1 GB and archive's 2 × 30 GB), farm B 1 GB: a 100 GB disk
    // has nowhere to go; the request waits with why.
    const waits = await ask('records', 100 * 1024);
    assert.equal(waits.status, 201, JSON.stringify(waits.json));
    assert.equal(waits.json.state, 'pending');
    assert.equal(waits.json.storageMb, 102400);
    assert.match(waits.json.reasons[0], /102400 MB of storage/);
    const line = await h.inject(operator, 'GET', `/capacity/demand?department=${dept}`);
    assert.deepEqual(
      line.json.items.map((d: Json) => [d.kind, d.storageMbPerInstance, d.totalStorageMb]),
      [['hosting-request', 102400, 102400]],
    );

    const fits = await ask('notes', 10 * 1024);
    assert.equal(fits.status, 201, JSON.stringify(fits.json));
    assert.equal(fits.json.state, 'approved');
    const svc = (await h.inject(dev, 'GET', `/services/${dept}/notes`)).json.id as string;
    assert.deepEqual(
      ((await h.footprint(svc)).slots as { storage_mb: number }[]).map((s) => s.storage_mb),
      [10240],
    );
  });

  test('the forecast counts reserved and planned storage and says when it runs out', async () => {
    /*
     * Farms: ADM-A and ADM-B, 100 GB each = 200 GB. Reserved: 2 GB (portal) + 60 GB (archive) +
     * 10 GB (notes) = 72 GB. The waiting request adds 100 GB from its go-live month: 172 GB, over
     * 80 % of 200 GB (160 GB), so storage runs out that month (86 %); memory and CPU do not.
     * The reference farm (median of two: the lower, ADM-A) brings 100 GB: one farm, and with it
     * 172 / 300 GB = 57.33 %.
     */
    const goLive = new Date(Date.now() + 40 * 86_400_000).toISOString().slice(0, 7);
    const from = new Date().toISOString().slice(0, 7);
    const f = (await h.inject(operator, 'GET', `/capacity/forecast?from=${from}&months=3&target=0.8`)).json;
    assert.equal(f.referenceFarm.storageGb, 100);
    assert.equal(f.series[0].storage.capacityGb, 200);
    assert.equal(f.series[0].storage.demandGb, 72);
    const live = f.series.find((m: Json) => m.month === goLive);
    assert.equal(live.storage.demandGb, 172);
    assert.equal(live.storage.utilisation, 0.86);
    assert.deepEqual(f.runsOut, { cpu: null, memory: null, storage: goLive });
    assert.deepEqual(
      f.recommendations.map((r: Json) => [r.resource, r.neededFor]),
      [['storage', goLive]],
    );
    assert.equal(live.withRecommended.storageUtilisation, 0.5733);
  });
});
