import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { groupUsage } from '../platform/proc-stats.ts';
import { emptyRaw, record } from '../router/metrics.ts';
import type { ServiceExposition } from './engine.ts';
import { addBuckets, BUCKETS_MS, emptyBuckets, quantileMs } from './histogram.ts';
import { metricsRange } from './metrics.logic.ts';
import { Prober } from './prober.ts';
import { escapeLabel, renderPrometheus } from './prometheus.ts';
import { CounterDiff, Rollup } from './rollup.ts';
import { hash32, nextAtPhase, TimerWheel } from './scheduler.ts';

/** A histogram of these latencies, as the router records them. */
function histogramOf(ms: number[]): number[] {
  const raw = emptyRaw();
  for (const x of ms) record(raw, 200, x, 0, 0);
  return raw.buckets;
}

describe('histograms', () => {
  test('merging minutes gives the percentiles of all their requests together', () => {
    const a = Array.from({ length: 900 }, (_, i) => 1 + (i % 9)); // fast minute: 1-9 ms
    const b = Array.from({ length: 100 }, (_, i) => 200 + i * 3); // slow minute: 200-497 ms
    const merged = emptyBuckets();
    addBuckets(merged, histogramOf(a));
    addBuckets(merged, histogramOf(b));
    assert.deepEqual(merged, histogramOf([...a, ...b]));
    // 90 % of requests are fast: p50 is a few ms, p95 lands in the slow minute's buckets.
    const p50 = quantileMs(merged, 0.5)!;
    const p95 = quantileMs(merged, 0.95)!;
    assert.ok(p50 >= 3 && p50 <= 7.5, `p50 ${p50}`);
    assert.ok(p95 >= 200 && p95 <= 500, `p95 ${p95}`);
    // The mean of two minutes' p95s would say something else entirely.
    assert.ok(p95 > (quantileMs(histogramOf(a), 0.95)! + quantileMs(histogramOf(b), 0.95)!) / 2);
    assert.equal(quantileMs(emptyBuckets(), 0.5), null);
  });

  test('a quantile falls inside the right bucket', () => {
    const h = histogramOf([12, 12, 12, 12]);
    const p = quantileMs(h, 0.99)!;
    assert.ok(p > 10 && p <= 15, String(p));
    assert.equal(quantileMs(histogramOf([90_000]), 0.5), 60_000, 'the open bucket reports its lower edge');
  });
});

describe('timer wheel', () => {
  test('fires each key once at its time, replaces and cancels', () => {
    let now = 1_000_000;
    const fired: [string, number, number][] = [];
    const wheel = new TimerWheel<string>(
      10,
      1000,
      (k, at, t) => fired.push([k, at, t]),
      () => now,
    );
    wheel.schedule('a', now + 100);
    wheel.schedule('b', now + 500);
    wheel.schedule('c', now + 300);
    wheel.schedule('b', now + 250); // replaces 500
    wheel.cancel('c');
    for (let i = 0; i < 100; i++) {
      now += 10;
      wheel.advance();
    }
    assert.deepEqual(
      fired.map(([k, at]) => [k, at - 1_000_000]),
      [
        ['a', 100],
        ['b', 250],
      ],
    );
    for (const [, at, t] of fired) assert.ok(t - at < 10, 'fired within one tick');
    assert.equal(wheel.size, 0);
  });

  test('a delay beyond the horizon waits its laps; a past time fires at the next tick', () => {
    let now = 0;
    const fired: string[] = [];
    const wheel = new TimerWheel<string>(
      10,
      100,
      (k) => fired.push(k),
      () => now,
    );
    wheel.schedule('far', 350);
    wheel.schedule('past', -50);
    now = 10;
    wheel.advance();
    assert.deepEqual(fired, ['past']);
    for (; now < 340; now += 10) wheel.advance();
    assert.deepEqual(fired, ['past']);
    now = 350;
    wheel.advance();
    assert.deepEqual(fired, ['past', 'far']);
  });

  test('a key due later in the tick being walked fires in that tick, not a lap later', () => {
    let now = 1003;
    const fired: number[] = [];
    const wheel = new TimerWheel<string>(
      10,
      100,
      (_k, _at, t) => fired.push(t),
      () => now,
    );
    wheel.schedule('k', 1008);
    wheel.advance(); // walks tick 100 at 1003: not due yet
    now = 1008;
    wheel.advance();
    assert.deepEqual(fired, [1008]);
  });

  test('10,000 services spread evenly over the interval', () => {
    const interval = 10_000;
    const perSecond = new Array(10).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const phase = hash32(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`) % interval;
      perSecond[Math.floor(phase / 1000)]++;
    }
    for (const n of perSecond) assert.ok(n > 850 && n < 1150, `per second: ${perSecond.join(' ')}`);
    assert.equal(nextAtPhase(25_000, 3_000, 10_000), 33_000);
    assert.equal(nextAtPhase(23_000, 3_000, 10_000), 33_000, 'strictly after now');
  });
});

describe('roll-ups', () => {
  test('router counters become deltas; a counter that went down is a restarted router', () => {
    const diff = new CounterDiff();
    const read = (n2xx: number, n5xx: number) => {
      const m = emptyRaw();
      for (let i = 0; i < n2xx; i++) record(m, 200, 4, 0, 0);
      for (let i = 0; i < n5xx; i++) record(m, 503, 40, 0, 0);
      return { 'D/s': m };
    };
    assert.equal(diff.diff(read(50, 1)).size, 0, 'the first read is the baseline');
    const d = diff.diff(read(70, 3)).get('D/s')!;
    assert.deepEqual(d.classes, [0, 20, 0, 0, 2]);
    assert.equal(
      d.buckets.reduce((a, n) => a + n, 0),
      22,
    );
    assert.equal(diff.diff(read(70, 3)).size, 0, 'nothing new, nothing to add');
    const after = diff.diff(read(5, 0)).get('D/s')!;
    assert.deepEqual(after.classes, [0, 5, 0, 0, 0]);
  });

  test('minutes roll over with everything added, and the traffic window spans five minutes', () => {
    const t0 = Date.UTC(2026, 0, 1, 10, 0, 0);
    const r = new Rollup(t0);
    const traffic = (n: number, ms: number) => {
      const m = emptyRaw();
      for (let i = 0; i < n; i++) record(m, i % 10 === 0 ? 500 : 200, ms, 0, 0);
      return { classes: m.classes, buckets: m.buckets, sumMs: m.sumMs };
    };
    r.addProbe('s', { at: t0, ok: true, status: 200, ms: 2, error: null });
    r.addProbe('s', { at: t0 + 1000, ok: false, status: 503, ms: 3, error: 'HTTP 503' });
    r.addTraffic('s', traffic(100, 5));
    r.addInstances('s', [
      {
        instanceId: 'i1',
        state: 'healthy',
        cpuSeconds: 0.5,
        memoryBytes: 10,
        memoryLimitBytes: 100,
        restarts: 0,
      },
    ]);
    r.addInstances('s', [
      {
        instanceId: 'i1',
        state: 'backoff',
        cpuSeconds: 0.25,
        memoryBytes: 30,
        memoryLimitBytes: 100,
        restarts: 1,
      },
    ]);
    assert.equal(r.roll(t0 + 59_999), null);
    const done = r.roll(t0 + 60_000)!;
    assert.equal(done.services.length, 1);
    const m = done.services[0]!;
    assert.equal(m.minute, t0);
    assert.deepEqual([m.probesTotal, m.probesFailed, m.probeMsSum], [2, 1, 5]);
    assert.deepEqual(m.classes, [0, 90, 0, 0, 10]);
    assert.deepEqual([m.instancesTotal, m.instancesHealthy], [1, 0]);
    assert.deepEqual(done.instances[0], {
      serviceId: 's',
      instanceId: 'i1',
      minute: t0,
      cpuSeconds: 0.75,
      memoryMaxBytes: 30,
      memoryLimitBytes: 100,
      restarts: 1,
      state: 'backoff',
    });
    for (let k = 1; k <= 6; k++) {
      r.addTraffic('s', traffic(10, 50));
      r.roll(t0 + (k + 1) * 60_000);
    }
    const w = r.trafficWindow('s', t0 + 7 * 60_000 + 5_000);
    // Minutes 3-6 are finished and in the window, minute 7 is empty: 4 × 10 requests.
    assert.equal(w.requests, 40);
    assert.equal(w.errors5xx, 4);
    assert.ok(w.p50Ms! > 30 && w.p50Ms! <= 50);
    assert.deepEqual(r.totals.get('s')!.classes, [0, 144, 0, 0, 16], 'totals never reset');
  });
});

describe('metrics range', () => {
  const now = Date.parse('2026-03-01T12:34:56Z');
  test('defaults to the last hour in minutes', () => {
    const r = metricsRange({}, now);
    assert.equal(r.from.toISOString(), '2026-03-01T11:34:00.000Z');
    assert.equal(r.to.toISOString(), '2026-03-01T12:35:00.000Z');
    assert.equal(r.step, 60);
  });
  test('refuses reversed ranges, odd steps and too many points, saying why', () => {
    assert.throws(
      () => metricsRange({ from: '2026-03-01T12:00:00Z', to: '2026-03-01T11:00:00Z' }, now),
      /before/,
    );
    assert.throws(() => metricsRange({ step: 90 }, now), /multiple of 60/);
    assert.throws(
      () => metricsRange({ from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z', step: 60 }, now),
      /at most 1500.*at least 3420/,
    );
    assert.equal(
      metricsRange({ from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z', step: 3600 }, now).step,
      3600,
    );
  });
});

describe('prober', () => {
  test('a GET with the Host header through a keep-alive connection; < 500 is up', async () => {
    const seen: string[] = [];
    const sockets = new Set<unknown>();
    const server = createServer((req, res) => {
      sockets.add(req.socket);
      seen.push(`${req.headers.host} ${req.url}`);
      if (req.headers.host === 'slow.x.localhost') return; // never answers
      res.statusCode = req.headers.host === 'bad.x.localhost' ? 503 : 404;
      res.end('x');
    });
    server.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as AddressInfo).port;
    // Answering probes get a bound no loaded machine reaches (one run at load 18 took over 300 ms
    // to answer the first); the short bound is for the probe that is never answered.
    const prober = new Prober(() => `http://127.0.0.1:${port}`, 10_000);
    const impatient = new Prober(() => `http://127.0.0.1:${port}`, 300);
    try {
      const ok = await prober.probe({ hostname: 'a.x.localhost', path: '/healthz' });
      assert.deepEqual([ok.ok, ok.status, ok.error], [true, 404, null]);
      const again = await prober.probe({ hostname: 'a.x.localhost', path: '/healthz' });
      assert.equal(again.ok, true);
      assert.equal(sockets.size, 1, 'the second probe reused the connection');
      const bad = await prober.probe({ hostname: 'bad.x.localhost', path: '/' });
      assert.deepEqual([bad.ok, bad.status, bad.error], [false, 503, 'HTTP 503']);
      const slow = await impatient.probe({ hostname: 'slow.x.localhost', path: '/' });
      assert.deepEqual([slow.ok, slow.status, slow.error], [false, null, 'timeout after 300 ms']);
      assert.ok(slow.ms >= 290 && slow.ms < 5000, String(slow.ms));
      assert.deepEqual(seen.slice(0, 3), [
        'a.x.localhost /healthz',
        'a.x.localhost /healthz',
        'bad.x.localhost /',
      ]);
    } finally {
      prober.close();
      impatient.close();
      server.closeAllConnections();
      server.close();
    }
    const refused = new Prober(() => `http://127.0.0.1:${port}`, 300);
    const r = await refused.probe({ hostname: 'a.x.localhost', path: '/' });
    refused.close();
    assert.deepEqual([r.ok, r.status, r.error], [false, null, 'ECONNREFUSED']);
  });
});

describe('/proc', () => {
  test('sums CPU and memory over the members of a process group', () => {
    const usage = groupUsage(new Set([process.pid, 999_999_999]));
    // The test runner is not a group leader necessarily: ask for its own group.
    const own = groupUsage(
      new Set([
        Number(
          execFileSync('ps', ['-o', 'pgid=', '-p', String(process.pid)])
            .toString()
            .trim(),
        ),
      ]),
    );
    const g = [...own.values()][0]!;
    assert.ok(g.rssBytes >= process.memoryUsage().rss * 0.5, 'at least this process is counted');
    assert.ok(g.cpuSeconds > 0);
    assert.equal(usage.has(999_999_999), false);
  });
});

describe('prometheus exposition', () => {
  const svc = (key: string, dept: string): ServiceExposition => {
    const m = emptyRaw();
    record(m, 200, 3, 0, 0);
    record(m, 502, 120, 0, 0);
    return {
      serviceId: key,
      departmentId: dept,
      key,
      state: 'up',
      lastProbe: { at: 0, ok: true, status: 200, ms: 1.5, error: null },
      totals: { classes: m.classes, buckets: m.buckets, sumMs: m.sumMs },
      instances: [
        {
          instanceId: 'i-"1"\\x',
          state: 'healthy',
          restarts: 2,
          memoryBytes: 1234,
          memoryLimitBytes: 4096,
          cpu: 0.1,
          cpuSecondsTotal: 1.25,
        },
      ],
    };
  };

  test('escapes label values', () => {
    assert.equal(escapeLabel('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
  });

  test('passes promtool check metrics, with cumulative buckets ending in +Inf = count', () => {
    const text = renderPrometheus([svc('IRD/tax', 'd1'), svc('HKPF/e-report', 'd2')]);
    assert.match(text, /govhost_http_requests_total\{department="IRD",service="tax",class="5xx"\} 1/);
    assert.match(
      text,
      /govhost_http_request_duration_seconds_bucket\{department="IRD",service="tax",le="\+Inf"\} 2/,
    );
    assert.match(text, /govhost_http_request_duration_seconds_count\{department="IRD",service="tax"\} 2/);
    assert.match(text, /service_instance="i-\\"1\\"\\\\x"/);
    // `instance` is Prometheus's own label (the scraped target): ours would arrive as exported_instance.
    assert.doesNotMatch(text, /[{,]instance="/);
    assert.equal(text.match(/le="/g)?.length, 2 * BUCKETS_MS.length);
    // promtool exits non-zero and prints each problem when the text is not clean.
    const out = execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(out.trim(), '');
  });
});
