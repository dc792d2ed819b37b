import { resolveService } from '../catalog/service.logic.ts';
import type { Db } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { authorize, type Principal } from '../tenancy/principal.ts';
import type { MonitoringEngine } from './engine.ts';
import { quantileMs } from './histogram.ts';
import { instanceSteps, serviceSteps } from './metrics.repository.ts';
import { MINUTE_MS } from './rollup.ts';

export interface MetricsDeps {
  db: Db;
  engine: MonitoringEngine | null;
}

/** At most this many points per series: enough for any chart, small enough for any answer. */
export const MAX_POINTS = 1500;
const DEFAULT_RANGE_MS = 3_600_000;

export interface MetricsQuery {
  from?: string;
  to?: string;
  step?: number;
}

function parseTime(name: string, raw: string): Date {
  const d = new Date(raw);
  if (Number.isNaN(d.getTime())) throw new DomainError('GOVHOST_VALIDATION', `${name} is not a valid time`);
  return d;
}

/** The range, cut to whole minutes (roll-ups are per minute), and checked. */
export function metricsRange(q: MetricsQuery, now = Date.now()): { from: Date; to: Date; step: number } {
  const step = q.step ?? 60;
  if (!Number.isInteger(step) || step < 60 || step % 60 !== 0)
    throw new DomainError('GOVHOST_VALIDATION', `step must be a multiple of 60 seconds, got ${step}`);
  const toRaw = q.to ? parseTime('to', q.to).getTime() : now;
  const fromRaw = q.from ? parseTime('from', q.from).getTime() : toRaw - DEFAULT_RANGE_MS;
  if (fromRaw >= toRaw) throw new DomainError('GOVHOST_VALIDATION', 'from must be before to');
  const from = fromRaw - (fromRaw % MINUTE_MS);
  const to = Math.ceil(toRaw / MINUTE_MS) * MINUTE_MS;
  const points = Math.ceil((to - from) / (step * 1000));
  if (points > MAX_POINTS)
    throw new DomainError(
      'GOVHOST_VALIDATION',
      `the range holds ${points} steps of ${step} s; at most ${MAX_POINTS}: use a larger step (at least ${Math.ceil((to - from) / 1000 / MAX_POINTS / 60) * 60}) or a shorter range`,
    );
  return { from: new Date(from), to: new Date(to), step };
}

interface InstancePoint {
  t: string;
  cpu: number;
  cpuSeconds: number;
  memoryMaxBytes: number | null;
  memoryLimitBytes: number;
  restarts: number;
  state: string;
}

const ratio = (part: number, whole: number) => (whole === 0 ? null : Math.round((part / whole) * 1e6) / 1e6);

/** A service's series over a range: traffic, latency, probes, and per instance CPU and memory. */
export async function serviceMetrics(
  deps: MetricsDeps,
  caller: Principal,
  department: string,
  slug: string,
  q: MetricsQuery,
) {
  const svc = await resolveService(deps.db, caller, department, slug);
  authorize(caller, 'monitoring:read');
  const { from, to, step } = metricsRange(q);
  const stepMs = step * 1000;
  const count = Math.ceil((to.getTime() - from.getTime()) / stepMs);
  const rows = new Map((await serviceSteps(deps.db, svc.id, from, to, step)).map((r) => [r.step, r]));
  const instanceRows = await instanceSteps(deps.db, svc.id, from, to, step);
  // The minute in progress lives in the engine's memory until it ends: add it in.
  const live = deps.engine?.liveMinute(svc.id);
  const stepOf = (minute: number) =>
    minute >= from.getTime() && minute < to.getTime() ? Math.floor((minute - from.getTime()) / stepMs) : null;
  if (live?.service) {
    const m = live.service;
    const k = stepOf(m.minute);
    if (k !== null) {
      let r = rows.get(k);
      if (!r) {
        r = {
          step: k,
          probesTotal: 0,
          probesFailed: 0,
          probeMsSum: 0,
          classes: [0, 0, 0, 0, 0],
          buckets: [],
          latencyMsSum: 0,
          minutes: 0,
        };
        rows.set(k, r);
      }
      r.probesTotal += m.probesTotal;
      r.probesFailed += m.probesFailed;
      r.probeMsSum += m.probeMsSum;
      r.classes = r.classes.map((n, i) => n + (m.classes[i] ?? 0));
      r.buckets = m.buckets.map((n, i) => n + (r.buckets[i] ?? 0));
      r.latencyMsSum += m.latencyMsSum;
      r.minutes += 1;
    }
  }
  for (const m of live?.instances ?? []) {
    const k = stepOf(m.minute);
    if (k === null) continue;
    const r = instanceRows.find((x) => x.instanceId === m.instanceId && x.step === k);
    if (r) {
      r.cpuSeconds += m.cpuSeconds;
      r.memoryMaxBytes = Math.max(r.memoryMaxBytes ?? 0, m.memoryMaxBytes ?? 0) || r.memoryMaxBytes;
      r.restarts += m.restarts;
      r.state = m.state;
      r.minutes += 1;
    } else
      instanceRows.push({
        instanceId: m.instanceId,
        step: k,
        cpuSeconds: m.cpuSeconds,
        memoryMaxBytes: m.memoryMaxBytes,
        memoryLimitBytes: m.memoryLimitBytes,
        restarts: m.restarts,
        state: m.state,
        minutes: 1,
      });
  }
  const points = Array.from({ length: count }, (_, k) => {
    const r = rows.get(k);
    const classes = r?.classes ?? [0, 0, 0, 0, 0];
    const total = classes.reduce((a, n) => a + n, 0);
    const buckets = r?.buckets ?? [];
    return {
      t: new Date(from.getTime() + k * stepMs).toISOString(),
      requests: {
        total,
        '1xx': classes[0]!,
        '2xx': classes[1]!,
        '3xx': classes[2]!,
        '4xx': classes[3]!,
        '5xx': classes[4]!,
      },
      errorRate: ratio(classes[4]!, total),
      latencyMs: {
        p50: quantileMs(buckets, 0.5),
        p95: quantileMs(buckets, 0.95),
        p99: quantileMs(buckets, 0.99),
        mean: total === 0 ? null : Math.round(((r?.latencyMsSum ?? 0) / total) * 1000) / 1000,
      },
      probes: {
        total: r?.probesTotal ?? 0,
        failed: r?.probesFailed ?? 0,
        successRatio: ratio((r?.probesTotal ?? 0) - (r?.probesFailed ?? 0), r?.probesTotal ?? 0),
        meanMs: r && r.probesTotal > 0 ? Math.round((r.probeMsSum / r.probesTotal) * 1000) / 1000 : null,
      },
    };
  });
  const instances = new Map<string, { instanceId: string; points: InstancePoint[] }>();
  instanceRows.sort((a, b) => a.instanceId.localeCompare(b.instanceId) || a.step - b.step);
  for (const r of instanceRows) {
    let i = instances.get(r.instanceId);
    if (!i) {
      i = { instanceId: r.instanceId, points: [] };
      instances.set(r.instanceId, i);
    }
    i.points.push({
      t: new Date(from.getTime() + r.step * stepMs).toISOString(),
      cpu: Math.round((r.cpuSeconds / (r.minutes * 60)) * 10000) / 10000,
      cpuSeconds: Math.round(r.cpuSeconds * 1000) / 1000,
      memoryMaxBytes: r.memoryMaxBytes,
      memoryLimitBytes: r.memoryLimitBytes,
      restarts: r.restarts,
      state: r.state,
    });
  }
  return {
    service: `${svc.department_code}/${svc.slug}`,
    from: from.toISOString(),
    to: to.toISOString(),
    step,
    points,
    instances: [...instances.values()],
    current: deps.engine?.current(svc.id) ?? null,
  };
}
