// The platform's probes go through the router as citizens' requests do, but are counted apart:
// a real router (two proxy workers, as on a multi-core host) in front of a real backend, and the
// real monitoring engine probing it with the router's probe key. After N probes (all failing)
// and M citizens' requests, the service's traffic is M requests with no errors; the probes are
// under the service's probe label. A request that guesses the header is a citizen's, and no
// backend ever sees the header.
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { probeLabel, type RawServiceMetrics } from '../router/metrics.ts';
import { PROBE_HEADER, probeKeyFor } from '../router/probe-key.ts';
import type { RunningRouter } from '../router/router.ts';
import {
  admin,
  ask,
  putRoutes,
  startBackend,
  startTestRouter,
  type TestBackend,
  TOKEN,
} from '../router/testing.ts';
import { type TestApp, testApp } from '../test-support/app.ts';
import { until } from '../test-support/until.ts';
import { MonitoringEngine } from './engine.ts';
import type { ServiceSnapshot } from './monitoring.types.ts';

const total = (m: RawServiceMetrics | undefined) => (m ? m.classes.reduce((a, b) => a + b, 0) : 0);

describe('probes are not citizens', () => {
  let t: TestApp;
  let router: RunningRouter;
  let backend: TestBackend;
  let key: string;
  let serviceId: string;
  const seen: { path: string; headers: IncomingHttpHeaders }[] = [];

  before(async () => {
    // The health path fails: were probes counted as citizens, the error rate would show it.
    backend = await startBackend('app', (req, res) => {
      seen.push({ path: req.url ?? '', headers: req.headers });
      res.writeHead(req.url === '/healthz' ? 503 : 200).end('ok');
    });
    [t, router] = await Promise.all([testApp(), startTestRouter({ workers: 2 })]);
    const dept = await t.department('PA');
    key = `${dept}/counter`;
    const res = await t.request(t.adminToken, {
      method: 'POST',
      url: '/api/v1/services',
      payload: {
        department: dept,
        slug: 'counter',
        nameEn: 'Counter',
        nameZh: '櫃檯',
        origin: 'new',
        channels: ['web'],
        slaTier: 'gold',
      },
    });
    assert.equal(res.statusCode, 201, res.body);
    serviceId = res.json().id;
    const active = await t.request(t.adminToken, {
      method: 'PATCH',
      url: `/api/v1/services/${key}`,
      payload: { lifecycle: 'active' },
    });
    assert.equal(active.statusCode, 200, active.body);
    const put = await putRoutes(router, [
      {
        hostname: 'counter.pa.localhost',
        service: key,
        kind: 'proxy',
        backends: [{ id: 'app-1', url: backend.url }],
      },
    ]);
    assert.equal(put.status, 200, JSON.stringify(put.body));
  });
  after(async () => {
    await router?.close(0);
    await backend?.close();
    await t?.close();
  });

  it('after N probes and M requests the service shows M requests and no errors', async () => {
    const raw = async () =>
      (await admin(router, 'GET', '/metrics?raw=1')).body.services as Record<string, RawServiceMetrics>;
    const snaps: ServiceSnapshot[] = [];
    const engine = new MonitoringEngine({
      db: t.db,
      log: t.app.log,
      watchList: () => [
        {
          serviceId,
          key,
          hostname: 'counter.pa.localhost',
          healthPath: '/healthz',
          kind: 'process',
          instances: [],
        },
      ],
      routerUrl: () => `http://127.0.0.1:${router.port}`,
      routerMetrics: raw,
      probeKey: () => probeKeyFor(TOKEN),
      intervalMs: 200,
      timeoutMs: 1000,
      retentionDays: 400,
    });
    engine.on('snapshot', (s) => snaps.push(s));
    await engine.start();
    try {
      await until('six probes', () => snaps.length >= 6);
      const M = 7;
      for (let i = 0; i < M; i++) {
        const r = await ask(router.port, { host: 'counter.pa.localhost', path: `/form/${i}` });
        assert.equal(r.status, 200);
      }
      // Someone who guesses the header is counted as what they are: a citizen.
      const guess = await ask(router.port, {
        host: 'counter.pa.localhost',
        path: '/healthz',
        headers: { [PROBE_HEADER]: 'x'.repeat(probeKeyFor(TOKEN).length) },
      });
      assert.equal(guess.status, 503);
      const citizens = M + 1;

      const counted = await until('the citizens in the engine', () => {
        const last = snaps.at(-1);
        return last && last.traffic.requests === citizens ? last : null;
      });
      assert.equal(counted.traffic.errors5xx, 1, "only the guesser's 503, none of the probes'");
      const probesSoFar = snaps.length;
      // More probes later, the traffic is still the citizens'.
      await until('three more probes', () => snaps.length >= probesSoFar + 3);
      assert.equal(snaps.at(-1)?.traffic.requests, citizens);

      const metrics = await raw();
      assert.equal(total(metrics[key]), citizens);
      assert.equal(metrics[key]?.classes[4], 1);
      const probes = metrics[probeLabel(key)];
      assert.ok(total(probes) >= probesSoFar + 3, `${total(probes)} probes counted apart`);
      assert.equal(probes?.classes[4], total(probes), 'every probe met the failing health path');
      // The summary the admin API gives operators lists them apart too.
      const summary = (await admin(router, 'GET', '/metrics')).body.services;
      assert.equal(summary[key].requests.total, citizens);
      assert.ok(summary[probeLabel(key)].requests.total >= probesSoFar + 3);
    } finally {
      await engine.stop();
    }
    const probed = seen.filter((s) => s.path === '/healthz');
    assert.ok(probed.length > 6);
    assert.ok(
      seen.every((s) => s.headers[PROBE_HEADER] === undefined),
      'no backend sees the probe header, right or wrong',
    );
    assert.equal(seen.filter((s) => s.path.startsWith('/form/')).length, 7);
  });
});
