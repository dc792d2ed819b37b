// The per-minute store on the real database (PGlite, and PostgreSQL in CI): minutes written as
// the engine writes them, read back through the metrics API with exact figures, and the
// retention the engine runs at start.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestApp, testApp } from '../test-support/app.ts';
import { MonitoringEngine } from './engine.ts';
import { BUCKETS_MS, emptyBuckets } from './histogram.ts';
import { deleteMinutesBefore, insertMinutes } from './metrics.repository.ts';
import { closeOutage, openOutage, outagesBetween } from './outage.repository.ts';
import { type InstanceMinute, MINUTE_MS, minuteOf, type ServiceMinute } from './rollup.ts';

const DAY = 86_400_000;
const MB = 2 ** 20;
// Past the 32-bit range: the bigint columns and bigint[] buckets must come back exact.
const HUGE = 5_000_000_000;

/** Bucket index of an upper bound in BUCKETS_MS. */
const at = (upperMs: number) => {
  const i = BUCKETS_MS.indexOf(upperMs as (typeof BUCKETS_MS)[number]);
  assert.ok(i >= 0, `no bucket ends at ${upperMs} ms`);
  return i;
};
const hist = (counts: [number, number][]) => {
  const b = emptyBuckets();
  for (const [upper, n] of counts) b[at(upper)] = n;
  return b;
};

function minute(
  serviceId: string,
  t: number,
  m: {
    probes: [number, number, number];
    classes: number[];
    buckets: number[];
    latencyMsSum: number;
  },
): ServiceMinute {
  return {
    serviceId,
    minute: t,
    probesTotal: m.probes[0],
    probesFailed: m.probes[1],
    probeMsSum: m.probes[2],
    classes: m.classes,
    buckets: m.buckets,
    latencyMsSum: m.latencyMsSum,
    instancesTotal: 1,
    instancesHealthy: 1,
  };
}

function instance(
  serviceId: string,
  instanceId: string,
  t: number,
  cpuSeconds: number,
  memoryMaxBytes: number | null,
  restarts: number,
  state: string,
): InstanceMinute {
  return {
    serviceId,
    instanceId,
    minute: t,
    cpuSeconds,
    memoryMaxBytes,
    memoryLimitBytes: 3 * 2 ** 30,
    restarts,
    state,
  };
}

let t: TestApp;
let A: string;
let B: string;
let viewerA: string;
let viewerB: string;
const ids: Record<string, string> = {};

async function createService(dept: string, slug: string) {
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
}

before(async () => {
  t = await testApp();
  A = await t.department('MA');
  B = await t.department('MB');
  viewerA = (await t.user('dept-viewer', A, 'read')).token;
  viewerB = (await t.user('dept-viewer', B, 'read')).token;
  await createService(A, 'tax');
  await createService(B, 'permit');
});
after(() => t.close());

describe('metrics from stored minutes', () => {
  // Four whole minutes an hour ago: nothing live (no engine here) adds to them.
  const T0 = minuteOf(Date.now()) - 60 * MINUTE_MS;
  const m = (k: number) => T0 + k * MINUTE_MS;
  const iso = (ms: number) => new Date(ms).toISOString();
  const series = (token: string, path: string, from: number, to: number, step: number) =>
    t.request(token, {
      method: 'GET',
      url: `/api/v1/services/${path}/metrics?from=${iso(from)}&to=${iso(to)}&step=${step}`,
    });

  before(async () => {
    const tax = ids.tax as string;
    const permit = ids.permit as string;
    // One call per finished minute, as the engine writes them; both services in each.
    await insertMinutes(
      t.db,
      [
        // Just before the range: must not leak into it.
        minute(tax, m(-1), {
          probes: [6, 6, 600],
          classes: [0, 0, 0, 0, 999],
          buckets: hist([[60000, 999]]),
          latencyMsSum: 999 * 40_000,
        }),
        minute(permit, m(-1), {
          probes: [6, 0, 6],
          classes: [0, 7, 0, 0, 0],
          buckets: hist([[1, 7]]),
          latencyMsSum: 7,
        }),
      ],
      [instance(tax, 'tax-a', m(-1), 60, 900 * MB, 5, 'crash-loop')],
    );
    await insertMinutes(
      t.db,
      [
        minute(tax, m(0), {
          probes: [6, 0, 12],
          classes: [0, 78, 0, 0, 2],
          buckets: hist([[10, 80]]),
          latencyMsSum: 80 * 9,
        }),
        minute(permit, m(0), {
          probes: [6, 0, 6],
          classes: [0, HUGE, 0, 0, 0],
          buckets: hist([[0.25, HUGE]]),
          latencyMsSum: HUGE * 0.2,
        }),
      ],
      [
        instance(tax, 'tax-a', m(0), 6, 100 * MB, 0, 'healthy'),
        instance(permit, 'permit-a', m(0), 1, 3 * 2 ** 30, 0, 'healthy'),
      ],
    );
    await insertMinutes(
      t.db,
      [
        minute(tax, m(1), {
          probes: [6, 1, 18],
          classes: [0, 18, 0, 2, 0],
          buckets: hist([[500, 20]]),
          latencyMsSum: 20 * 400,
        }),
      ],
      [instance(tax, 'tax-a', m(1), 12, 150 * MB, 1, 'backoff')],
    );
    await insertMinutes(
      t.db,
      [
        minute(tax, m(2), {
          probes: [6, 0, 6],
          classes: [0, 50, 0, 0, 0],
          buckets: hist([[10, 50]]),
          latencyMsSum: 50 * 9,
        }),
      ],
      [instance(tax, 'tax-a', m(2), 3, 120 * MB, 0, 'crash-loop')],
    );
    await insertMinutes(
      t.db,
      [
        minute(tax, m(3), {
          probes: [6, 3, 30],
          classes: [0, 45, 0, 0, 5],
          buckets: hist([[1000, 50]]),
          latencyMsSum: 50 * 900,
        }),
        // At `to`: outside the range.
        minute(tax, m(4), {
          probes: [6, 6, 600],
          classes: [0, 0, 0, 0, 999],
          buckets: hist([[60000, 999]]),
          latencyMsSum: 999 * 40_000,
        }),
      ],
      [
        instance(tax, 'tax-a', m(3), 9, 130 * MB, 0, 'healthy'),
        instance(tax, 'tax-b', m(3), 30, null, 0, 'starting'),
      ],
    );
  });

  it('adds minutes per step, merges histograms exactly and takes the last state', async () => {
    const res = await series(viewerA, `${A}/tax`, m(0), m(4), 120);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.deepEqual([body.service, body.from, body.to, body.step], [`${A}/tax`, iso(m(0)), iso(m(4)), 120]);
    // Step 0 = minutes 0+1: 80 requests in (7.5, 10] ms and 20 in (300, 500] ms, 100 in all.
    //   p50: rank 50 of 100 falls in the first bucket: 7.5 + 2.5 × 50/80 = 9.0625 → 9.063
    //   p95: rank 95, 15th of the 20 in (300, 500]: 300 + 200 × 15/20 = 450
    //   p99: rank 99, 19th of 20: 300 + 200 × 19/20 = 490
    //   mean: (720 + 8000) / 100 = 87.2 ms; probes 12, 1 failed: 11/12 = 0.916667; 30 ms / 12 = 2.5
    // Step 1 = minutes 2+3: 50 in (7.5, 10] and 50 in (750, 1000].
    //   p50: rank 50 is the last of the first bucket: 7.5 + 2.5 × 50/50 = 10
    //   p95: rank 95, 45th of 50 in (750, 1000]: 750 + 250 × 45/50 = 975; p99: 750 + 250 × 49/50 = 995
    //   mean: (450 + 45000) / 100 = 454.5; probes 12, 3 failed: 0.75; 36 ms / 12 = 3
    assert.deepEqual(body.points, [
      {
        t: iso(m(0)),
        requests: { total: 100, '1xx': 0, '2xx': 96, '3xx': 0, '4xx': 2, '5xx': 2 },
        errorRate: 0.02,
        latencyMs: { p50: 9.063, p95: 450, p99: 490, mean: 87.2 },
        probes: { total: 12, failed: 1, successRatio: 0.916667, meanMs: 2.5 },
      },
      {
        t: iso(m(2)),
        requests: { total: 100, '1xx': 0, '2xx': 95, '3xx': 0, '4xx': 0, '5xx': 5 },
        errorRate: 0.05,
        latencyMs: { p50: 10, p95: 975, p99: 995, mean: 454.5 },
        probes: { total: 12, failed: 3, successRatio: 0.75, meanMs: 3 },
      },
    ]);
    // CPU share = CPU seconds / (minutes sampled × 60); memory the step's peak; restarts added;
    // the state the step ended in (minute 1's backoff, minute 3's healthy), not its first.
    assert.deepEqual(body.instances, [
      {
        instanceId: 'tax-a',
        points: [
          {
            t: iso(m(0)),
            cpu: 0.15,
            cpuSeconds: 18,
            memoryMaxBytes: 150 * MB,
            memoryLimitBytes: 3 * 2 ** 30,
            restarts: 1,
            state: 'backoff',
          },
          {
            t: iso(m(2)),
            cpu: 0.1,
            cpuSeconds: 12,
            memoryMaxBytes: 130 * MB,
            memoryLimitBytes: 3 * 2 ** 30,
            restarts: 0,
            state: 'healthy',
          },
        ],
      },
      {
        instanceId: 'tax-b',
        points: [
          {
            t: iso(m(2)),
            cpu: 0.5,
            cpuSeconds: 30,
            memoryMaxBytes: null,
            memoryLimitBytes: 3 * 2 ** 30,
            restarts: 0,
            state: 'starting',
          },
        ],
      },
    ]);
    assert.equal(body.current, null, 'no engine in this process');
  });

  it('per minute, over the whole range, and with empty steps', async () => {
    const perMinute = (await series(viewerA, `${A}/tax`, m(0), m(4), 60)).json();
    assert.deepEqual(
      perMinute.points.map((p: { latencyMs: { p50: number; p95: number } }) => [
        p.latencyMs.p50,
        p.latencyMs.p95,
      ]),
      // Minute 0: all 80 in (7.5, 10]: 7.5 + 2.5 × 40/80 = 8.75 and 7.5 + 2.5 × 76/80 = 9.875.
      // Minute 1: all 20 in (300, 500]: 300 + 200 × 10/20 = 400 and 300 + 200 × 19/20 = 490.
      [
        [8.75, 9.875],
        [400, 490],
        [8.75, 9.875],
        [875, 987.5],
      ],
    );
    // One step of four minutes: 130 in (7.5, 10], 20 in (300, 500], 50 in (750, 1000]; 200 in all.
    //   p50: rank 100 of the first 130: 7.5 + 2.5 × 100/130 = 9.4231 → 9.423
    //   p95: rank 190, 40th of 50 in (750, 1000]: 750 + 250 × 40/50 = 950 (the mean of the
    //   four minutes' p95s would be 593); p99: 750 + 250 × 48/50 = 990
    const whole = (await series(viewerA, `${A}/tax`, m(0), m(4), 240)).json();
    assert.equal(whole.points.length, 1);
    assert.deepEqual(whole.points[0].latencyMs, { p50: 9.423, p95: 950, p99: 990, mean: 270.85 });
    assert.deepEqual(whole.points[0].requests, {
      total: 200,
      '1xx': 0,
      '2xx': 191,
      '3xx': 0,
      '4xx': 2,
      '5xx': 7,
    });
    // Eight minutes in steps of two: the third holds only the minute at m(4) (outside every
    // range above), the fourth none at all.
    const gaps = (await series(viewerA, `${A}/tax`, m(0), m(8), 120)).json();
    assert.equal(gaps.points.length, 4);
    assert.deepEqual(
      gaps.points.map((p: { requests: { total: number } }) => p.requests.total),
      [100, 100, 999, 0],
    );
    assert.deepEqual(gaps.points[3], {
      t: iso(m(6)),
      requests: { total: 0, '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 },
      errorRate: null,
      latencyMs: { p50: null, p95: null, p99: null, mean: null },
      probes: { total: 0, failed: 0, successRatio: null, meanMs: null },
    });
  });

  it('keeps services apart, counts past 2^32 exactly, and hides other departments (404)', async () => {
    const res = await series(viewerB, `${B}/permit`, m(0), m(2), 120);
    assert.equal(res.statusCode, 200, res.body);
    const p = res.json().points[0];
    assert.equal(p.requests.total, HUGE);
    assert.equal(p.requests['2xx'], HUGE);
    // All requests in the first bucket (0, 0.25]: p50 = 0.25 × 0.5 = 0.125; p99 0.2475 to 3 decimals.
    assert.deepEqual([p.latencyMs.p50, p.latencyMs.p99, p.latencyMs.mean], [0.125, 0.248, 0.2]);
    assert.equal(res.json().instances[0].points[0].memoryMaxBytes, 3 * 2 ** 30);

    for (const [token, path] of [
      [viewerA, `${B}/permit`],
      [viewerB, `${A}/tax`],
    ] as const) {
      const hidden = await series(token, path, m(0), m(2), 60);
      assert.equal(hidden.statusCode, 404, hidden.body);
      assert.match(hidden.json().code, /^GOVHOST_(SERVICE|DEPARTMENT)_NOT_FOUND$/);
    }
    const operator = (await t.user('operator')).token;
    assert.equal((await series(operator, `${B}/permit`, m(0), m(2), 60)).statusCode, 200);
  });
});

describe('retention', () => {
  it('the engine deletes minutes older than metricsRetentionDays at start, and no outage', async () => {
    const tax = ids.tax as string;
    const now = Date.now();
    const old = minuteOf(now - 401 * DAY);
    const young = minuteOf(now - 399 * DAY);
    const row = (at: number) =>
      minute(tax, at, {
        probes: [1, 0, 1],
        classes: [0, 1, 0, 0, 0],
        buckets: hist([[1, 1]]),
        latencyMsSum: 1,
      });
    await insertMinutes(
      t.db,
      [row(old), row(young)],
      [instance(tax, 'old-i', old, 1, 1, 0, 'healthy'), instance(tax, 'young-i', young, 1, 1, 0, 'healthy')],
    );
    // An outage far older than the retention: the SLA history is not the minutes' to delete.
    const ancient = await openOutage(t.db, tax, new Date(now - 500 * DAY), 'HTTP 503');
    await closeOutage(t.db, ancient.id, new Date(now - 500 * DAY + 60_000));

    const minutesOf = async (table: 'service_minutes' | 'instance_minutes') =>
      (
        await t.db
          .selectFrom(table)
          .select('minute')
          .where('service_id', '=', tax)
          .where('minute', '<', new Date(now - 300 * DAY))
          .orderBy('minute')
          .execute()
      ).map((r) => r.minute.getTime());
    assert.deepEqual(await minutesOf('service_minutes'), [old, young]);

    const engine = new MonitoringEngine({
      db: t.db,
      log: t.app.log,
      watchList: () => [],
      routerUrl: () => 'http://127.0.0.1:9',
      routerMetrics: async () => ({}),
      intervalMs: 60_000,
      timeoutMs: 1000,
      retentionDays: t.config.metricsRetentionDays,
    });
    assert.equal(t.config.metricsRetentionDays, 400);
    await engine.start();
    // stop() waits for the engine's queued writes, the retention among them.
    await engine.stop();

    assert.deepEqual(await minutesOf('service_minutes'), [young]);
    assert.deepEqual(await minutesOf('instance_minutes'), [young]);
    const outages = await outagesBetween(t.db, [tax], new Date(now - 600 * DAY), new Date(now));
    assert.deepEqual(
      outages.map((o) => o.id),
      [ancient.id],
    );
    // The recent minutes of the first tests are untouched.
    const recent = await t.db
      .selectFrom('service_minutes')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('minute', '>=', new Date(now - DAY))
      .executeTakeFirstOrThrow();
    assert.equal(Number(recent.n), 8);
    // The boundary itself: a minute exactly at `before` stays, one a minute older goes.
    assert.equal(await deleteMinutesBefore(t.db, new Date(young)), 0);
    assert.equal(await deleteMinutesBefore(t.db, new Date(young + MINUTE_MS)), 1);
  });
});
