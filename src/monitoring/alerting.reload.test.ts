// A rule changed through the API applies from the very next snapshot in the process that runs
// alerting, not at the evaluator's periodic re-read (every 30 s): the routes tell it at once.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadSecretBox } from '../platform/secrets.ts';
import { type TestApp, testApp } from '../test-support/app.ts';
import { until as waitFor } from '../test-support/until.ts';
import { type RunningAlerting, startAlerting } from './alerting.start.ts';
import type { MonitoringEvents, ServiceSnapshot } from './monitoring.types.ts';

const until = <T>(
  what: string,
  check: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  ms = 5_000,
) => waitFor(what, check, ms);

let t: TestApp;
let dept: string;
let admin: string;
let svc: { id: string; departmentId: string; key: string };
let alerting: RunningAlerting;
const events = new EventEmitter<MonitoringEvents>();
const T0 = Date.now();

/** A gold service answering every probe, with a p95 of 600 ms over 100 requests. */
const slow = (at: number): ServiceSnapshot => ({
  serviceId: svc.id,
  departmentId: svc.departmentId,
  key: svc.key,
  tier: 'gold',
  state: 'up',
  downSince: null,
  lastProbe: { at, ok: true, status: 200, ms: 5, error: null },
  consecutiveFailures: 0,
  traffic: { windowSec: 300, requests: 100, errors5xx: 0, p50Ms: 80, p95Ms: 600, p99Ms: 700 },
  instances: [],
  at,
});

const latencyAlerts = async (state: 'firing' | 'all') => {
  const res = await t.request(admin, {
    method: 'GET',
    url: `/api/v1/alerts?state=${state}&service=${svc.key}`,
  });
  assert.equal(res.statusCode, 200, res.body);
  return (res.json().items as { rule: string; state: string; threshold: number }[]).filter(
    (a) => a.rule === 'latency',
  );
};

before(async () => {
  t = await testApp();
  dept = await t.department('RL');
  admin = (await t.user('dept-admin', dept)).token;
  const res = await t.request(admin, {
    method: 'POST',
    url: '/api/v1/services',
    payload: {
      slug: 'licence',
      nameEn: 'Licence',
      nameZh: '牌照',
      origin: 'new',
      channels: ['web'],
      slaTier: 'gold',
    },
  });
  assert.equal(res.statusCode, 201, res.body);
  const d = await t.db
    .selectFrom('departments')
    .select('id')
    .where('code', '=', dept)
    .executeTakeFirstOrThrow();
  svc = { id: res.json().id, departmentId: d.id, key: `${dept}/licence` };
  // The default re-read interval (30 s): only the routes' hook can make a change apply in time.
  alerting = await startAlerting({
    db: t.db,
    config: t.config,
    box: loadSecretBox(join(t.config.dataDir, 'secret.key'), undefined),
    events,
    log: { info() {}, warn() {}, error() {} },
  });
  t.deps.alerting = alerting;
});
after(async () => {
  await alerting?.stop();
  await t.close();
});

describe('alert rule changes', () => {
  it('a threshold lowered through the API fires on the next snapshot; a reset starts clearing on the next', async () => {
    // Gold latency: p95 above 1000 ms for 5 min. 600 ms is fine.
    events.emit('snapshot', slow(T0));
    assert.deepEqual(alerting.firing(), []);

    const url = `/api/v1/services/${svc.key}/alert-rules/latency`;
    const put = await t.request(admin, { method: 'PUT', url, payload: { threshold: 500, forSeconds: 0 } });
    assert.equal(put.statusCode, 200, put.body);

    events.emit('snapshot', slow(T0 + 10_000));
    await until('the latency alert firing', () =>
      alerting.firing().some((f) => f.serviceId === svc.id && f.rule === 'latency') ? true : null,
    );
    const [fired] = await until('the alert in the API', async () => {
      const a = await latencyAlerts('firing');
      return a.length === 1 ? a : null;
    });
    assert.equal(fired?.threshold, 500);

    const reset = await t.request(admin, { method: 'DELETE', url });
    assert.equal(reset.statusCode, 200, reset.body);
    assert.equal(reset.json().threshold, 1000);
    // The reset applies at once; the alert then clears after gold latency's 60 s clear duration.
    events.emit('snapshot', slow(T0 + 20_000));
    events.emit('snapshot', slow(T0 + 80_000));
    await until('the latency alert resolved', async () =>
      alerting.firing().length === 0 && (await latencyAlerts('firing')).length === 0 ? true : null,
    );
    assert.deepEqual(
      (await latencyAlerts('all')).map((a) => a.state),
      ['resolved'],
    );
  });
});
