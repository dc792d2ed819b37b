// Outages across a restart of the platform: the real engine probing a real HTTP server on
// loopback (standing in for the router, which answers by Host header), on the real store.
// A first engine opens outages and stops without closing them, as a platform process that ends
// while services are down; a second engine on the same store resumes the one still served and
// closes the one no longer served.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { WatchedService } from '../runtime/orchestrator.ts';
import { type TestApp, testApp } from '../test-support/app.ts';
import { until } from '../test-support/until.ts';
import { MonitoringEngine } from './engine.ts';
import type { ServiceSnapshot } from './monitoring.types.ts';
import { openOutages, outagesBetween } from './outage.repository.ts';

let t: TestApp;
let dept: string;
const ids: Record<string, string> = {};
/** What the stand-in routers answer per Host. */
const status: Record<string, number> = {};
/** A stand-in router, answering by Host from `status`, with every Host it was asked for, in order. */
function standIn() {
  const asked: string[] = [];
  const server = createServer((req, res) => {
    const host = req.headers.host ?? '';
    asked.push(host);
    res.writeHead(status[host] ?? 404).end();
  });
  return { server, asked };
}
// Each engine probes through a stand-in of its own: a probe the first engine sent just before it
// stopped may land late, but never in what the second engine is counted for.
const firstRouter = standIn();
const secondRouter = standIn();

async function createActive(slug: string) {
  const res = await t.request(t.adminToken, {
    method: 'POST',
    url: '/api/v1/services',
    payload: {
      department: dept,
      slug,
      nameEn: slug,
      nameZh: slug,
      origin: 'new',
      channels: ['web'],
      slaTier: 'gold',
    },
  });
  assert.equal(res.statusCode, 201, res.body);
  ids[slug] = res.json().id;
  const patch = await t.request(t.adminToken, {
    method: 'PATCH',
    url: `/api/v1/services/${dept}/${slug}`,
    payload: { lifecycle: 'active' },
  });
  assert.equal(patch.statusCode, 200, patch.body);
}

const host = (slug: string) => `${slug}.${dept.toLowerCase()}.localhost`;
const watched = (slug: string): WatchedService => ({
  serviceId: ids[slug] as string,
  key: `${dept}/${slug}`,
  hostname: host(slug),
  healthPath: '/healthz',
  kind: 'process',
  instances: [],
});

function engine(list: () => WatchedService[], router: ReturnType<typeof standIn>) {
  const port = (router.server.address() as AddressInfo).port;
  const e = new MonitoringEngine({
    db: t.db,
    log: t.app.log,
    watchList: list,
    routerUrl: () => `http://127.0.0.1:${port}`,
    routerMetrics: async () => ({}),
    intervalMs: 200,
    timeoutMs: 1000,
    retentionDays: 400,
  });
  const snaps: ServiceSnapshot[] = [];
  e.on('snapshot', (s) => snaps.push(s));
  return { e, snaps };
}

const outagesOf = (slug: string) =>
  outagesBetween(
    t.db,
    [ids[slug] as string],
    new Date(Date.now() - 3_600_000),
    new Date(Date.now() + 60_000),
  );

before(async () => {
  for (const r of [firstRouter, secondRouter])
    await new Promise<void>((done) => r.server.listen(0, '127.0.0.1', done));
  t = await testApp();
  dept = await t.department('RS');
  await createActive('tax');
  await createActive('retired');
});
after(async () => {
  // The stand-in router first: a store that fails to close must not leave it holding the process.
  firstRouter.server.close();
  secondRouter.server.close();
  await t.close();
});

describe('outages across a restart', () => {
  it('a new engine resumes an open outage, closes it when the service answers, and closes one no longer served', async () => {
    status[host('tax')] = 503;
    status[host('retired')] = 503;

    // The previous platform process: both services go down, then it ends with them still down.
    const first = engine(() => [watched('tax'), watched('retired')], firstRouter);
    await first.e.start();
    const open = await until('both outages open', async () => {
      const o = await openOutages(t.db);
      return o.length === 2 ? o : null;
    });
    await first.e.stop();
    const taxOutage = open.find((o) => o.serviceId === ids.tax);
    const retiredOutage = open.find((o) => o.serviceId === ids.retired);
    assert.ok(taxOutage && retiredOutage);
    assert.equal(taxOutage.cause, 'HTTP 503');
    assert.equal((await openOutages(t.db)).length, 2, 'stopping the engine leaves outages open');

    // The next process serves only tax: retired was removed while the platform was not running.
    const restartedAt = Date.now();
    const second = engine(() => [watched('tax')], secondRouter);
    await second.e.start();
    const resumed = second.e.current(ids.tax as string);
    assert.equal(resumed?.state, 'down', 'down from the start, before any probe of its own');
    assert.equal(resumed?.downSince, taxOutage.startedAt.getTime(), 'down since the outage began');

    const [retiredAfter] = await until('the outage of the service no longer served closed', async () => {
      const o = await outagesOf('retired');
      return o[0]?.endedAt ? o : null;
    });
    assert.equal(retiredAfter?.id, retiredOutage.id);
    assert.ok((retiredAfter?.endedAt?.getTime() ?? 0) >= restartedAt);

    // Still failing: the same outage goes on; no second one is opened.
    await until('a failed probe by the new engine', () =>
      second.snaps.find((s) => s.serviceId === ids.tax && s.lastProbe && !s.lastProbe.ok),
    );
    await until('another failed probe', () =>
      second.snaps.filter((s) => s.serviceId === ids.tax && s.lastProbe && !s.lastProbe.ok).length >= 2
        ? true
        : null,
    );
    assert.deepEqual(
      (await outagesOf('tax')).map((o) => [o.id, o.endedAt]),
      [[taxOutage.id, null]],
    );

    // It answers again: the resumed outage ends at that probe.
    const answeredFrom = Date.now();
    status[host('tax')] = 200;
    const up = await until('tax up', () =>
      second.snaps.find((s) => s.serviceId === ids.tax && s.state === 'up'),
    );
    const [closed] = await until('the resumed outage closed', async () => {
      const o = await outagesOf('tax');
      return o[0]?.endedAt ? o : null;
    });
    await second.e.stop();
    assert.equal(closed?.id, taxOutage.id);
    assert.equal(closed?.endedAt?.getTime(), up.lastProbe?.at);
    assert.ok((closed?.endedAt?.getTime() ?? 0) >= answeredFrom);
    assert.equal((await outagesOf('tax')).length, 1, 'one outage from first failure to recovery');
    assert.deepEqual(await openOutages(t.db), []);
    const asked = secondRouter.asked;
    assert.ok(asked.length > 0 && asked.every((h) => h === host('tax')), 'the retired service is not probed');
  });
});
