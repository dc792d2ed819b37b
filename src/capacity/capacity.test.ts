import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type TestApp, testApp } from '../test-support/app.ts';
import { type AdmissionHarness, admissionHarness, type Json } from './capacity.fixtures.ts';
import { reconcileReservations, registerLocalFarm } from './host-farm.ts';

let t: TestApp;
let h: AdmissionHarness;
let admin: string;
let operator: string;
let bundlesDir: string;
/** What the runtime was asked to do after an admitted change. */
let started: string[];

const inject = (token: string, method: string, url: string, payload?: unknown) =>
  h.inject(token, method, url, payload);
const bundle = (instances: number, memory: string) => h.bundle(instances, memory);
const deploy = (token: string, service: string, file: string) => h.deploy(token, service, file);
const footprint = (serviceId: string) => h.footprint(serviceId);

const unmetFor = async (serviceId: string) =>
  t.db.selectFrom('unmet_demand').selectAll().where('service_id', '=', serviceId).orderBy('at').execute();

const newService = (token: string, dept: string, slug: string, tier = 'silver') =>
  h.newService(token, dept, slug, tier);

before(async () => {
  t = await testApp();
  h = await admissionHarness(t);
  started = h.started;
  bundlesDir = h.bundlesDir;
  admin = t.adminToken;
  operator = (await t.user('operator')).token;
});
after(() => t.close());

describe('farms', () => {
  test('operators add, list, show and move farms through their states; others may not', async () => {
    const add = await inject(operator, 'POST', '/farms', {
      code: 'FARM-T1',
      vcpu: 64,
      memoryMb: 512 * 1024,
      storageGb: 10_000,
      idleWatts: 200,
      maxWatts: 600,
      costHkd: 3_300_000,
      phase: 1,
    });
    assert.equal(add.status, 201, JSON.stringify(add.json));
    assert.equal(add.json.state, 'planned');
    assert.deepEqual(add.json.reserved, { instances: 0, services: 0, cpu: 0, memoryMb: 0, storageMb: 0 });
    assert.equal(add.json.used, null);

    const skip = await inject(operator, 'PATCH', '/farms/FARM-T1', { state: 'active' });
    assert.equal(skip.status, 409);
    assert.equal(skip.json.code, 'GOVHOST_FARM_STATE');
    assert.match(skip.json.detail, /a planned farm cannot become active \(allowed: ordered, retired\)/);

    const ordered = await inject(operator, 'PATCH', '/farms/FARM-T1', {
      state: 'ordered',
      orderedOn: '2012-04-01',
    });
    assert.equal(ordered.status, 200);
    assert.equal(ordered.json.orderedOn, '2012-04-01');
    const active = await inject(operator, 'PATCH', '/farms/FARM-T1', {
      state: 'active',
      activeFrom: '2012-10-01',
      cpuOvercommit: 2,
      memoryOvercommit: 1.5,
    });
    assert.equal(active.status, 200);
    assert.equal(active.json.activeFrom, '2012-10-01');
    assert.deepEqual(active.json.overcommit, { cpu: 2, memory: 1.5 });
    assert.deepEqual(active.json.reservable, { cpu: 128, memoryMb: 786432 });

    const list = await inject((await t.user('finance')).token, 'GET', '/farms');
    assert.equal(list.status, 200);
    assert.ok(list.json.items.some((f: Json) => f.code === 'FARM-T1'));
    assert.equal((await inject(admin, 'GET', '/farms/FARM-T1')).json.state, 'active');
    assert.equal((await inject(admin, 'GET', '/farms/NOPE')).status, 404);

    const dept = await t.department();
    const devToken = (await t.user('dept-admin', dept)).token;
    assert.equal((await inject(devToken, 'GET', '/farms')).status, 403);
    assert.equal((await inject(devToken, 'PATCH', '/farms/FARM-T1', { cpuOvercommit: 4 })).status, 403);
    const finance = (await t.user('finance')).token;
    assert.equal(
      (
        await inject(finance, 'POST', '/farms', {
          code: 'X1',
          vcpu: 1,
          memoryMb: 1,
          storageGb: 0,
          idleWatts: 0,
          maxWatts: 0,
        })
      ).status,
      403,
    );

    const audit = await t.db
      .selectFrom('audit_log')
      .select('action')
      .where('target_id', '=', 'FARM-T1')
      .execute();
    assert.deepEqual(
      audit.map((a) => a.action),
      ['farm.create', 'farm.update', 'farm.update'],
    );
  });

  test('bad input is refused precisely and writes nothing', async () => {
    const base = { code: 'BAD-1', vcpu: 8, memoryMb: 1024, storageGb: 1, idleWatts: 10, maxWatts: 20 };
    for (const [body, field] of [
      [{ ...base, vcpu: -1 }, '/vcpu'],
      [{ ...base, state: 'broken' }, '/state'],
      [{ ...base, code: 'has space' }, '/code'],
      [{ ...base, cpuOvercommit: 20 }, '/cpuOvercommit'],
      [{ ...base, activeFrom: '2012-13-45' }, '/activeFrom'],
      [{ ...base, maxWatts: 5 }, '/maxWatts'],
    ] as const) {
      const res = await inject(operator, 'POST', '/farms', body);
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.status}`);
      assert.equal(res.json.code, 'GOVHOST_VALIDATION');
      assert.ok(
        res.json.errors.some((e: Json) => String(e.field).endsWith(field)),
        `${field} in ${JSON.stringify(res.json.errors)}`,
      );
    }
    assert.equal((await inject(operator, 'GET', '/farms/BAD-1')).status, 404);
    assert.equal((await inject(operator, 'PATCH', '/farms/FARM-T1', {})).status, 400);
    const dup = await inject(operator, 'POST', '/farms', { ...base, code: 'FARM-T1' });
    assert.equal(dup.status, 409);
    assert.equal(dup.json.code, 'GOVHOST_FARM_EXISTS');
  });
});

describe('quotas and admission', () => {
  let dept: string;
  let deptToken: string;

  before(async () => {
    dept = await t.department('Q');
    deptToken = (await t.user('dept-developer', dept)).token;
  });

  test("a department reads its own quota and use, not another's; operators set it", async () => {
    const own = await inject(deptToken, 'GET', `/departments/${dept}/quota`);
    assert.equal(own.status, 200);
    assert.equal(own.json.isDefault, true);
    assert.deepEqual(own.json.usage, { services: 0, instances: 0, memoryMb: 0 });
    const other = await t.department('O');
    const hidden = await inject(deptToken, 'GET', `/departments/${other}/quota`);
    assert.equal(hidden.status, 404);
    assert.equal(
      (await inject(deptToken, 'PUT', `/departments/${dept}/quota`, { instances: 1000 })).status,
      403,
    );
    const set = await inject(operator, 'PUT', `/departments/${dept}/quota`, { instances: 4, services: 2 });
    assert.equal(set.status, 200);
    assert.deepEqual(set.json.limits, { memoryMb: 65536, instances: 4, services: 2 });
    assert.equal(set.json.isDefault, false);
    assert.equal(
      (await inject(operator, 'PUT', `/departments/${dept}/quota`, { instances: -1 })).status,
      400,
    );
    assert.equal((await inject(operator, 'PUT', `/departments/${dept}/quota`, {})).status, 400);
  });

  test('a service over the services quota is not created, and is recorded as unmet demand', async () => {
    await newService(deptToken, dept, 'one');
    await newService(deptToken, dept, 'two', 'gold');
    const count = async (table: 'services' | 'audit_log' | 'reservations' | 'unmet_demand') =>
      Number(
        (
          await t.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = {
      services: await count('services'),
      audit: await count('audit_log'),
      reservations: await count('reservations'),
      unmet: await count('unmet_demand'),
    };
    const res = await inject(deptToken, 'POST', '/services', {
      department: dept,
      slug: 'three',
      nameEn: 'x',
      nameZh: 'x',
      origin: 'new',
      channels: ['web'],
      slaTier: 'bronze',
    });
    assert.equal(res.status, 409);
    assert.equal(res.json.code, 'GOVHOST_QUOTA_EXCEEDED');
    assert.equal(
      res.json.detail,
      `quota exceeded: ${dept}/three would bring the department to 3 services; its quota is 2`,
    );
    assert.equal((await inject(deptToken, 'GET', `/services/${dept}/three`)).status, 404);
    // What was asked (one service, no instances yet), by which department, why; nothing else.
    const unmet = await inject(operator, 'GET', `/capacity/unmet-demand?department=${dept}`);
    assert.equal(unmet.status, 200);
    assert.equal(unmet.json.total, 1);
    assert.deepEqual(
      { ...unmet.json.items[0], id: undefined, at: undefined },
      {
        id: undefined,
        at: undefined,
        department: dept,
        service: `${dept}/three`,
        services: 1,
        instances: 0,
        memoryMb: 0,
        cpu: 0,
        storageMb: 0,
        reason: res.json.detail,
      },
    );
    assert.deepEqual(
      {
        services: await count('services'),
        audit: await count('audit_log'),
        reservations: await count('reservations'),
        unmet: await count('unmet_demand'),
      },
      { ...before, unmet: before.unmet + 1 },
    );
  });

  test('a deploy over the instance quota leaves nothing behind and is recorded as unmet', async () => {
    const id = (await inject(deptToken, 'GET', `/services/${dept}/one`)).json.id as string;
    const before = await footprint(id);
    const res = await deploy(deptToken, `${dept}/one`, await bundle(5, '256M'));
    assert.equal(res.status, 409, JSON.stringify(res.json));
    assert.equal(res.json.code, 'GOVHOST_QUOTA_EXCEEDED');
    assert.equal(
      res.json.detail,
      `quota exceeded: ${dept}/one would bring the department to 5 instances; its quota is 4`,
    );
    assert.deepEqual(await footprint(id), before);
    const unmet = await unmetFor(id);
    assert.equal(unmet.length, 1);
    assert.equal(unmet[0]?.instances, 5);
    assert.equal(unmet[0]?.memory_mb, 256);
    assert.equal(unmet[0]?.reason, res.json.detail);
    assert.deepEqual(started, []);
  });

  test('a deploy no farm can hold is refused likewise', async () => {
    await inject(operator, 'POST', '/farms', {
      code: 'SMALL',
      vcpu: 2,
      memoryMb: 2048,
      storageGb: 10,
      idleWatts: 10,
      maxWatts: 20,
      state: 'active',
    });
    // FARM-T1 shrinks to 8 GB: no active farm has room for a 10 GB instance.
    const shrunk = await inject(operator, 'PATCH', '/farms/FARM-T1', { memoryMb: 8192, memoryOvercommit: 1 });
    assert.equal(shrunk.status, 200);
    const id = (await inject(deptToken, 'GET', `/services/${dept}/one`)).json.id as string;
    const before = await footprint(id);
    const big = await deploy(deptToken, `${dept}/one`, await bundle(2, '10G'));
    assert.equal(big.status, 409, JSON.stringify(big.json));
    assert.equal(big.json.code, 'GOVHOST_INSUFFICIENT_CAPACITY');
    assert.match(
      big.json.detail,
      /^insufficient capacity: no active farm has 10240 MB of memory, 1 CPU and 1024 MB of storage free/,
    );
    assert.deepEqual(await footprint(id), before);
    assert.equal((await unmetFor(id)).length, 2);
  });

  test('an admitted deploy reserves its slots; scale over quota or capacity changes nothing', async () => {
    const id = (await inject(deptToken, 'GET', `/services/${dept}/two`)).json.id as string;
    const ok = await deploy(deptToken, `${dept}/two`, await bundle(2, '512M'));
    assert.equal(ok.status, 202, JSON.stringify(ok.json));
    assert.deepEqual(started, ['rollout two']);
    const slots = await t.db.selectFrom('reservations').selectAll().where('service_id', '=', id).execute();
    assert.equal(slots.length, 2);
    // Gold with two instances: two farms.
    assert.equal(new Set(slots.map((s) => s.farm_id)).size, 2);
    assert.ok(slots.every((s) => s.memory_mb === 512 && Number(s.cpu) === 1));
    await h.markLive(id, ok.json.deployment.id, { instances: 2, memoryMb: 512 });

    const before = await footprint(id);
    const over = await inject(deptToken, 'POST', `/services/${dept}/two/scale`, { instances: 5 });
    assert.equal(over.status, 409);
    assert.equal(
      over.json.detail,
      `quota exceeded: ${dept}/two would bring the department to 5 instances; its quota is 4`,
    );
    assert.deepEqual(await footprint(id), before);
    const noRoom = await inject(deptToken, 'POST', `/services/${dept}/two/scale`, { memoryMb: 8192 });
    assert.equal(noRoom.status, 409);
    assert.equal(noRoom.json.code, 'GOVHOST_INSUFFICIENT_CAPACITY');
    assert.deepEqual(await footprint(id), before);
    assert.deepEqual(
      (await unmetFor(id)).map((u) => [u.instances, u.memory_mb]),
      [
        [5, 512],
        [2, 8192],
      ],
    );
    assert.deepEqual(started, ['rollout two']);

    const fine = await inject(deptToken, 'POST', `/services/${dept}/two/scale`, { instances: 3 });
    assert.equal(fine.status, 202);
    assert.equal((await footprint(id)).reservations, 3);
    const quota = await inject(deptToken, 'GET', `/departments/${dept}/quota`);
    assert.deepEqual(quota.json.usage, { services: 2, instances: 3, memoryMb: 1536 });
    const farm = await inject(operator, 'GET', '/farms/FARM-T1');
    assert.ok(farm.json.reserved.instances >= 1);
  });

  test('suspending gives capacity back; activating takes it again or is refused', async () => {
    const id = (await inject(deptToken, 'GET', `/services/${dept}/two`)).json.id as string;
    const sus = await inject(deptToken, 'PATCH', `/services/${dept}/two`, { lifecycle: 'suspended' });
    assert.equal(sus.status, 200, JSON.stringify(sus.json));
    assert.equal((await footprint(id)).reservations, 0);
    await inject(operator, 'PUT', `/departments/${dept}/quota`, { instances: 2 });
    const refused = await inject(deptToken, 'PATCH', `/services/${dept}/two`, { lifecycle: 'active' });
    assert.equal(refused.status, 409);
    assert.equal(
      refused.json.detail,
      `quota exceeded: ${dept}/two would bring the department to 3 instances; its quota is 2`,
    );
    assert.equal((await inject(deptToken, 'GET', `/services/${dept}/two`)).json.lifecycle, 'suspended');
    await inject(operator, 'PUT', `/departments/${dept}/quota`, { instances: 4 });
    const back = await inject(deptToken, 'PATCH', `/services/${dept}/two`, { lifecycle: 'active' });
    assert.equal(back.status, 200);
    assert.equal((await footprint(id)).reservations, 3);
  });

  test('a farm holding reservations cannot be retired', async () => {
    const farm = await inject(operator, 'GET', '/farms/SMALL');
    const held = farm.json.reserved.instances as number;
    assert.ok(held > 0);
    const res = await inject(operator, 'PATCH', '/farms/SMALL', { state: 'retired' });
    assert.equal(res.status, 409);
    assert.equal(res.json.code, 'GOVHOST_FARM_IN_USE');
    assert.match(res.json.detail, new RegExp(`farm SMALL holds ${held} reservations? of 1 service`));
    assert.equal((await inject(operator, 'GET', '/farms/SMALL')).json.state, 'active');
  });

  test('refused demand is listed for the capacity team only', async () => {
    const res = await inject(operator, 'GET', `/capacity/unmet-demand?department=${dept}`);
    assert.equal(res.status, 200);
    assert.equal(res.json.total, 6);
    assert.ok(res.json.items.every((i: Json) => i.department === dept));
    assert.equal(res.json.items.filter((i: Json) => i.services === 1).length, 1);
    assert.ok(res.json.items.some((i: Json) => /^insufficient capacity/.test(i.reason)));
    assert.equal((await inject(deptToken, 'GET', '/capacity/unmet-demand')).status, 403);
  });

  test('the host registers as the local farm, and running services without reservations get them', async () => {
    const id = (await inject(deptToken, 'GET', `/services/${dept}/two`)).json.id as string;
    await t.db.deleteFrom('reservations').where('service_id', '=', id).execute();
    const host = await registerLocalFarm(t.db, t.config.dataDir);
    assert.ok(host.vcpu >= 1 && host.memoryMb > 0);
    const local = await inject(operator, 'GET', '/farms/local');
    assert.equal(local.json.isLocal, true);
    assert.equal(local.json.state, 'active');
    assert.equal(local.json.capacity.vcpu, host.vcpu);
    assert.match(local.json.name, /estimates/);
    const r = await reconcileReservations(t.db);
    assert.equal(r.added, 3);
    assert.equal((await footprint(id)).reservations, 3);
    // A second start changes nothing.
    assert.deepEqual(await reconcileReservations(t.db), { added: 0, released: 0, overbooked: 0 });
    const again = await registerLocalFarm(t.db, t.config.dataDir);
    assert.equal(again.vcpu, host.vcpu);
    assert.equal(
      (await inject(operator, 'GET', '/farms?state=active')).json.items.filter((f: Json) => f.isLocal).length,
      1,
    );
    const retire = await inject(operator, 'PATCH', '/farms/local', { state: 'retired' });
    assert.equal(retire.status, 409);
  });

  test('a refused deploy removes its bundle file unless a release uses it', async () => {
    assert.ok(!existsSync(join(bundlesDir, 'missing')));
    const files = await readdir(bundlesDir);
    // One bundle per admitted release, none from the refused ones.
    const releases = await t.db.selectFrom('releases').select('bundle_sha256').execute();
    assert.deepEqual(files.sort(), [...new Set(releases.map((r) => `${r.bundle_sha256}.tar.gz`))].sort());
  });
});
