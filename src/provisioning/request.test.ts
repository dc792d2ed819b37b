import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestApp, testApp } from '../test-support/app.ts';

let t: TestApp;
let dept: string;
let developer: string;
let viewer: string;
let operator: string;

const future = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

const body = (slug: string, extra: Record<string, unknown> = {}) => ({
  slug,
  nameEn: `Service ${slug}`,
  nameZh: `服務 ${slug}`,
  origin: 'new',
  channels: ['web', 'mobile'],
  slaTier: 'silver',
  instances: 2,
  memoryMb: 512,
  goLive: future(30),
  justification: 'Citizens asked for it',
  ...extra,
});

const submit = (token: string, payload: Record<string, unknown>) =>
  t.request(token, { method: 'POST', url: '/api/v1/requests', payload });
const act = (token: string, id: string, verb: string, payload?: Record<string, unknown>) =>
  t.request(token, {
    method: 'POST',
    url: `/api/v1/requests/${id}/${verb}`,
    ...(payload ? { payload } : {}),
  });

/** Commissions a farm the way an operator's inventory would hold it: a row in `farms`. */
async function addFarm(code: string, memoryMb: number, vcpu = 64) {
  await t.db
    .insertInto('farms')
    .values({
      code,
      name: `Farm ${code}`,
      vcpu,
      memory_mb: memoryMb,
      storage_gb: 1000,
      idle_watts: 200,
      max_watts: 500,
      cost_hkd: 3_300_000,
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
}

async function serviceRow(code: string, slug: string) {
  return t.db
    .selectFrom('services')
    .innerJoin('departments', 'departments.id', 'services.department_id')
    .select(['services.id', 'services.instances', 'services.memory_mb', 'services.lifecycle'])
    .where('departments.code', '=', code)
    .where('services.slug', '=', slug)
    .executeTakeFirst();
}

const reservationsOf = async (serviceId: string) =>
  t.db.selectFrom('reservations').selectAll().where('service_id', '=', serviceId).execute();

const auditActions = async (targetId: string) =>
  (
    await t.db
      .selectFrom('audit_log')
      .select('action')
      .where('target_id', '=', targetId)
      .orderBy('seq')
      .execute()
  ).map((r) => r.action);

describe('hosting requests', () => {
  before(async () => {
    t = await testApp();
    dept = await t.department('REQ');
    developer = (await t.user('dept-developer', dept)).token;
    viewer = (await t.user('dept-viewer', dept)).token;
    operator = (await t.user('operator')).token;
  });
  after(() => t.close());

  it('queues a request no farm can hold, with the reason, until capacity comes', async () => {
    // No farm yet: the platform has no capacity at all.
    const res = await submit(developer, body('queued', { instances: 3, memoryMb: 2048 }));
    assert.equal(res.statusCode, 201, res.body);
    const r = res.json();
    assert.equal(r.state, 'pending');
    assert.equal(r.autoApproved, false);
    assert.equal(r.hostname, null);
    assert.match(r.reasons[0], /^insufficient capacity: .*2048 MB/);
    assert.equal(await serviceRow(dept, 'queued'), undefined);
    const unmet = await t.db
      .selectFrom('unmet_demand')
      .selectAll()
      .where('service_key', '=', `${dept}/queued`)
      .execute();
    assert.equal(unmet.length, 1);
    assert.equal(unmet[0]?.service_id, null);
    // While it waits, its go-live month carries it in the forecast's demand pipeline.
    const planned = () =>
      t.db.selectFrom('planned_demand').selectAll().where('source_id', '=', r.id).execute();
    const line = (await planned())[0];
    assert.ok(line, 'a planned-demand line for the waiting request');
    assert.equal(line.kind, 'hosting-request');
    assert.equal(line.go_live, r.goLive.slice(0, 7));

    // The operator queue lists it.
    const queue = await t.request(operator, { method: 'GET', url: '/api/v1/requests?state=pending' });
    assert.deepEqual(
      queue.json().items.map((i: { id: string }) => i.id),
      [r.id],
    );

    // Approving without capacity: 409 with the reason; nothing provisioned; still pending.
    await addFarm('SMALL', 4096, 2);
    const refused = await act(operator, r.id, 'approve');
    assert.equal(refused.statusCode, 409, refused.body);
    assert.equal(refused.json().code, 'GOVHOST_INSUFFICIENT_CAPACITY');
    assert.match(refused.json().detail, /insufficient capacity/);
    assert.equal(await serviceRow(dept, 'queued'), undefined);
    assert.equal((await t.db.selectFrom('reservations').selectAll().execute()).length, 0);
    const still = (await t.request(developer, { method: 'GET', url: `/api/v1/requests/${r.id}` })).json();
    assert.equal(still.state, 'pending');
    assert.match(still.reasons[0], /insufficient capacity/);

    // The operator adds a farm; now approval provisions it.
    await addFarm('BIG', 65536, 64);
    const approved = await act(operator, r.id, 'approve');
    assert.equal(approved.statusCode, 200, approved.body);
    const a = approved.json();
    assert.equal(a.state, 'approved');
    assert.equal(a.autoApproved, false);
    assert.deepEqual(a.reasons, []);
    assert.equal(a.hostname, `queued.${dept.toLowerCase()}.localhost`);
    assert.ok(a.approvedAt >= a.submittedAt);
    assert.equal(a.leadTimeMs, Date.parse(a.approvedAt) - Date.parse(a.submittedAt));
    const svc = await serviceRow(dept, 'queued');
    assert.ok(svc);
    assert.deepEqual([svc.instances, svc.memory_mb, svc.lifecycle], [3, 2048, 'planned']);
    assert.equal((await reservationsOf(svc.id)).length, 3);
    assert.deepEqual(await auditActions(r.id), ['request.submit', 'request.approve']);
    assert.equal((await planned()).length, 0, 'provisioned: reservations now, no longer planned demand');

    // Approving twice is a conflict, not a second service.
    const again = await act(operator, r.id, 'approve');
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().code, 'GOVHOST_REQUEST_STATE');
  });

  it('approves and provisions a request inside quota and capacity at once', async () => {
    // A second farm with room: a gold service spreads over two.
    await addFarm('MID', 16384, 16);
    const res = await submit(
      developer,
      body('auto', {
        slaTier: 'gold',
        environment: { GREETING: 'hello' },
        origin: 'migrated',
        egisRef: 'EGIS-0042',
      }),
    );
    assert.equal(res.statusCode, 201, res.body);
    const r = res.json();
    assert.equal(r.state, 'approved');
    assert.equal(r.autoApproved, true);
    assert.equal(r.hostname, `auto.${dept.toLowerCase()}.localhost`);
    assert.equal(typeof r.leadTimeMs, 'number');
    assert.ok(r.leadTimeMs >= 0 && r.leadTimeMs < 60_000);

    const shown = await t.request(developer, { method: 'GET', url: `/api/v1/services/${dept}/auto` });
    assert.equal(shown.statusCode, 200);
    assert.equal(shown.json().egisRef, 'EGIS-0042');
    assert.equal(shown.json().slaTier, 'gold');
    const svc = await serviceRow(dept, 'auto');
    assert.ok(svc);
    assert.deepEqual([svc.instances, svc.memory_mb], [2, 512]);
    const slots = await reservationsOf(svc.id);
    assert.equal(slots.length, 2);
    // Gold: its two instances on two farms.
    assert.equal(new Set(slots.map((s) => s.farm_id)).size, 2);
    const env = await t.db.selectFrom('service_env').selectAll().where('service_id', '=', svc.id).execute();
    assert.deepEqual(
      env.map((e) => [e.key, e.value, e.secret]),
      [['GREETING', 'hello', false]],
    );
    assert.deepEqual(await auditActions(r.id), ['request.submit', 'request.approve']);
    assert.deepEqual(await auditActions(`${dept}/auto`), ['service.create']);

    const report = (await t.request(developer, { method: 'GET', url: '/api/v1/requests/lead-times' })).json();
    assert.equal(report.count, 2);
    assert.ok(report.medianMs !== null && report.p90Ms !== null && report.p90Ms >= report.medianMs);
    assert.equal(report.months.length, 1);
    assert.equal(report.months[0].month, new Date().toISOString().slice(0, 7));
    assert.equal(report.months[0].count, 2);
  });

  it('lets an operator reject and the department cancel a pending request, once', async () => {
    // A quota of no more services sends every request to the queue.
    const other = await t.department('QTA');
    const dev2 = (await t.user('dept-developer', other)).token;
    const { id: deptId } = await t.db
      .selectFrom('departments')
      .select('id')
      .where('code', '=', other)
      .executeTakeFirstOrThrow();
    await t.db
      .insertInto('department_quotas')
      .values({ department_id: deptId, memory_mb: 65536, instances: 100, services: 0 })
      .execute();

    const one = (await submit(dev2, body('one'))).json();
    const two = (await submit(dev2, body('two'))).json();
    assert.equal(one.state, 'pending');
    assert.deepEqual(one.reasons, [
      `quota exceeded: ${other}/one would bring the department to 1 services; its quota is 0`,
    ]);

    const byDeveloper = await act(dev2, one.id, 'reject', { reason: 'no' });
    assert.equal(byDeveloper.statusCode, 403);
    const noReason = await act(operator, one.id, 'reject', { reason: '' });
    assert.equal(noReason.statusCode, 400);
    const rejected = await act(operator, one.id, 'reject', {
      reason: 'Use the shared booking service instead',
    });
    assert.equal(rejected.statusCode, 200, rejected.body);
    assert.equal(rejected.json().state, 'rejected');
    assert.equal(rejected.json().rejectReason, 'Use the shared booking service instead');
    assert.ok(rejected.json().rejectedAt);

    const cancelled = await act(dev2, two.id, 'cancel');
    assert.equal(cancelled.statusCode, 200, cancelled.body);
    assert.equal(cancelled.json().state, 'cancelled');
    assert.ok(cancelled.json().cancelledAt);

    for (const [id, verb] of [
      [one.id, 'cancel'],
      [two.id, 'approve'],
      [two.id, 'cancel'],
    ] as const) {
      const res = await act(verb === 'approve' ? operator : dev2, id, verb);
      assert.equal(res.statusCode, 409, `${verb}: ${res.body}`);
      assert.equal(res.json().code, 'GOVHOST_REQUEST_STATE');
    }
    assert.deepEqual(await auditActions(one.id), ['request.submit', 'request.reject']);
    assert.deepEqual(await auditActions(two.id), ['request.submit', 'request.cancel']);
    // A rejected name may be asked for again.
    assert.equal((await submit(dev2, body('one'))).json().state, 'pending');
  });

  it('shows a department only its own requests', async () => {
    const mine = (await submit(developer, body('mine', { instances: 100 }))).json();
    assert.equal(mine.state, 'pending');
    const stranger = await t.department('OTH');
    const strangerDev = (await t.user('dept-developer', stranger)).token;
    const seen = await t.request(strangerDev, { method: 'GET', url: `/api/v1/requests/${mine.id}` });
    assert.equal(seen.statusCode, 404);
    assert.equal(seen.json().code, 'GOVHOST_REQUEST_NOT_FOUND');
    assert.equal((await act(strangerDev, mine.id, 'cancel')).statusCode, 404);
    const list = (await t.request(strangerDev, { method: 'GET', url: '/api/v1/requests' })).json();
    assert.equal(list.total, 0);
    const report = (
      await t.request(strangerDev, { method: 'GET', url: '/api/v1/requests/lead-times' })
    ).json();
    assert.equal(report.count, 0);
    assert.equal(report.medianMs, null);
    const asked = await t.request(strangerDev, { method: 'GET', url: `/api/v1/requests?department=${dept}` });
    assert.equal(asked.statusCode, 404);
    // Its own department sees it, and a viewer may read.
    const own = (await t.request(viewer, { method: 'GET', url: '/api/v1/requests?state=pending' })).json();
    assert.ok(own.items.some((i: { id: string }) => i.id === mine.id));
    assert.ok(own.items.every((i: { department: string }) => i.department === dept));
    // Still still cancels it: the queue keeps no dead requests.
    assert.equal((await act(developer, mine.id, 'cancel')).statusCode, 200);
  });

  it('refuses a viewer submitting and a developer approving (403)', async () => {
    const res = await submit(viewer, body('viewer'));
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().code, 'GOVHOST_FORBIDDEN');
    const pending = (await submit(developer, body('waits', { instances: 100 }))).json();
    const approve = await act(developer, pending.id, 'approve');
    assert.equal(approve.statusCode, 403);
    assert.equal(
      (await t.request(developer, { method: 'GET', url: `/api/v1/requests/${pending.id}` })).json().state,
      'pending',
    );
    await act(developer, pending.id, 'cancel');
  });

  it('refuses bad input precisely, without writing anything', async () => {
    const before = (await t.db.selectFrom('hosting_requests').select('id').execute()).length;
    const past = await submit(developer, body('past', { goLive: '2012-10-01' }));
    assert.equal(past.statusCode, 400);
    assert.equal(past.json().code, 'GOVHOST_VALIDATION');
    assert.deepEqual(
      past.json().errors.map((e: { field: string }) => e.field),
      ['body/goLive'],
    );
    const tier = await submit(developer, body('tier', { slaTier: 'platinum' }));
    assert.equal(tier.statusCode, 400);
    assert.match(tier.body, /slaTier/);
    const notDate = await submit(developer, body('nodate', { goLive: '2027-02-30x' }));
    assert.equal(notDate.statusCode, 400);
    const egis = await submit(developer, body('egis', { egisRef: 'EGIS-1' }));
    assert.equal(egis.statusCode, 400);
    const zero = await submit(developer, body('zero', { instances: 0 }));
    assert.equal(zero.statusCode, 400);
    const taken = await submit(developer, body('auto'));
    assert.equal(taken.statusCode, 409);
    assert.equal(taken.json().code, 'GOVHOST_SERVICE_EXISTS');
    const first = (await submit(developer, body('twice', { instances: 100 }))).json();
    const twice = await submit(developer, body('twice', { instances: 100 }));
    assert.equal(twice.statusCode, 409);
    assert.equal(twice.json().code, 'GOVHOST_REQUEST_EXISTS');
    const badId = await t.request(developer, { method: 'GET', url: '/api/v1/requests/not-a-uuid' });
    assert.equal(badId.statusCode, 400);
    const unknown = await t.request(operator, {
      method: 'POST',
      url: '/api/v1/requests/00000000-0000-4000-8000-000000000000/approve',
    });
    assert.equal(unknown.statusCode, 404);
    const noDept = await submit(operator, body('nodept'));
    assert.equal(noDept.statusCode, 400);
    assert.equal((await t.db.selectFrom('hosting_requests').select('id').execute()).length, before + 1);
    await act(developer, first.id, 'cancel');
  });

  it('leaves nothing half-done when provisioning fails at approval', async () => {
    const r = (await submit(developer, body('clash', { instances: 100 }))).json();
    assert.equal(r.state, 'pending');
    // Meanwhile someone registers a service of that name directly.
    const created = await t.request(developer, {
      method: 'POST',
      url: '/api/v1/services',
      payload: {
        slug: 'clash',
        nameEn: 'Clash',
        nameZh: '衝突',
        origin: 'new',
        channels: ['web'],
        slaTier: 'bronze',
      },
    });
    assert.equal(created.statusCode, 201);
    const reservationsBefore = (await t.db.selectFrom('reservations').select('id').execute()).length;
    const services = (await t.db.selectFrom('services').select('id').execute()).length;
    const res = await act(operator, r.id, 'approve');
    assert.equal(res.statusCode, 409);
    assert.equal(res.json().code, 'GOVHOST_SERVICE_EXISTS');
    assert.equal((await t.db.selectFrom('reservations').select('id').execute()).length, reservationsBefore);
    assert.equal((await t.db.selectFrom('services').select('id').execute()).length, services);
    const after = (await t.request(operator, { method: 'GET', url: `/api/v1/requests/${r.id}` })).json();
    assert.equal(after.state, 'pending');
    assert.match(after.reasons[0], /exists already/);
    assert.deepEqual(await auditActions(r.id), ['request.submit']);

    // A request whose quota fails at approval: no service, no reservation, still pending.
    const q = (await submit(developer, body('quota', { instances: 100 }))).json();
    const quotaRes = await act(operator, q.id, 'approve');
    assert.equal(quotaRes.statusCode, 409);
    assert.equal(quotaRes.json().code, 'GOVHOST_QUOTA_EXCEEDED');
    assert.equal(await serviceRow(dept, 'quota'), undefined);
    assert.equal((await t.db.selectFrom('reservations').select('id').execute()).length, reservationsBefore);
  });
});
