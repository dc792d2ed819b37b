/**
 * Per-minute roll-ups in memory. Probes, router traffic and instance samples add into the current
 * minute; when the minute ends its rows are handed over in one piece (one batched insert), and the
 * last few minutes stay in a ring for the live traffic window. Cumulative totals (never reset,
 * whatever the router does) feed the Prometheus endpoint.
 */
import type { RawServiceMetrics } from '../router/metrics.ts';
import { addBuckets, emptyBuckets, quantileMs } from './histogram.ts';
import type { ProbeResult, TrafficWindow } from './monitoring.types.ts';

export const MINUTE_MS = 60_000;
export const minuteOf = (t: number) => t - (t % MINUTE_MS);

export interface ServiceMinute {
  serviceId: string;
  /** Epoch ms of the minute's start. */
  minute: number;
  probesTotal: number;
  probesFailed: number;
  probeMsSum: number;
  /** Requests by status class, 1xx … 5xx. */
  classes: number[];
  buckets: number[];
  latencyMsSum: number;
  /** Instances at the last sample of the minute, and how many of them were healthy. */
  instancesTotal: number;
  instancesHealthy: number;
}

export interface InstanceMinute {
  serviceId: string;
  instanceId: string;
  minute: number;
  cpuSeconds: number;
  memoryMaxBytes: number | null;
  memoryLimitBytes: number;
  restarts: number;
  state: string;
}

/** Counters to add: what the router counted since the previous read. */
export interface TrafficDelta {
  classes: number[];
  buckets: number[];
  sumMs: number;
}

export interface Totals extends TrafficDelta {}

const WINDOW_MINUTES = 5;

function emptyMinute(serviceId: string, minute: number): ServiceMinute {
  return {
    serviceId,
    minute,
    probesTotal: 0,
    probesFailed: 0,
    probeMsSum: 0,
    classes: [0, 0, 0, 0, 0],
    buckets: emptyBuckets(),
    latencyMsSum: 0,
    instancesTotal: 0,
    instancesHealthy: 0,
  };
}

export class Rollup {
  private minute: number;
  private services = new Map<string, ServiceMinute>();
  private instances = new Map<string, InstanceMinute>();
  /** The last finished minutes of each service, oldest first. */
  private readonly ring = new Map<string, ServiceMinute[]>();
  readonly totals = new Map<string, Totals>();

  constructor(now: number) {
    this.minute = minuteOf(now);
  }

  private current(serviceId: string): ServiceMinute {
    let m = this.services.get(serviceId);
    if (!m) {
      m = emptyMinute(serviceId, this.minute);
      this.services.set(serviceId, m);
    }
    return m;
  }

  addProbe(serviceId: string, r: ProbeResult): void {
    const m = this.current(serviceId);
    m.probesTotal++;
    if (!r.ok) m.probesFailed++;
    m.probeMsSum += r.ms;
  }

  addTraffic(serviceId: string, d: TrafficDelta): void {
    const m = this.current(serviceId);
    for (let i = 0; i < 5; i++) m.classes[i]! += d.classes[i] ?? 0;
    addBuckets(m.buckets, d.buckets);
    m.latencyMsSum += d.sumMs;
    let t = this.totals.get(serviceId);
    if (!t) {
      t = { classes: [0, 0, 0, 0, 0], buckets: emptyBuckets(), sumMs: 0 };
      this.totals.set(serviceId, t);
    }
    for (let i = 0; i < 5; i++) t.classes[i]! += d.classes[i] ?? 0;
    addBuckets(t.buckets, d.buckets);
    t.sumMs += d.sumMs;
  }

  addInstances(
    serviceId: string,
    samples: {
      instanceId: string;
      state: string;
      cpuSeconds: number;
      memoryBytes: number | null;
      memoryLimitBytes: number;
      restarts: number;
    }[],
  ): void {
    const m = this.current(serviceId);
    m.instancesTotal = samples.length;
    m.instancesHealthy = samples.filter((s) => s.state === 'healthy').length;
    for (const s of samples) {
      let im = this.instances.get(s.instanceId);
      if (!im) {
        im = {
          serviceId,
          instanceId: s.instanceId,
          minute: this.minute,
          cpuSeconds: 0,
          memoryMaxBytes: null,
          memoryLimitBytes: s.memoryLimitBytes,
          restarts: 0,
          state: s.state,
        };
        this.instances.set(s.instanceId, im);
      }
      im.cpuSeconds += s.cpuSeconds;
      if (s.memoryBytes !== null) im.memoryMaxBytes = Math.max(im.memoryMaxBytes ?? 0, s.memoryBytes);
      im.memoryLimitBytes = s.memoryLimitBytes;
      im.restarts += s.restarts;
      im.state = s.state;
    }
  }

  /** The minute in progress of one service, not yet written. */
  live(serviceId: string): { service: ServiceMinute | null; instances: InstanceMinute[] } {
    return {
      service: this.services.get(serviceId) ?? null,
      instances: [...this.instances.values()].filter((i) => i.serviceId === serviceId),
    };
  }

  /** Forgets a service that is no longer watched (its finished rows were already handed over). */
  drop(serviceId: string): void {
    this.ring.delete(serviceId);
    this.totals.delete(serviceId);
  }

  /**
   * When `now` is in a later minute (or `force`, at shutdown): hands over the finished minute's
   * rows and starts the next one. Null while the minute goes on.
   */
  roll(now: number, force = false): { services: ServiceMinute[]; instances: InstanceMinute[] } | null {
    const minute = minuteOf(now);
    if (minute === this.minute && !force) return null;
    const services = [...this.services.values()];
    const instances = [...this.instances.values()];
    for (const m of services) {
      const r = this.ring.get(m.serviceId) ?? [];
      r.push(m);
      while (r.length > WINDOW_MINUTES) r.shift();
      this.ring.set(m.serviceId, r);
    }
    this.services = new Map();
    this.instances = new Map();
    this.minute = minute;
    return { services, instances };
  }

  /** Requests of the last five minutes (finished minutes in the ring plus the current one). */
  trafficWindow(serviceId: string, now: number): TrafficWindow {
    const since = minuteOf(now) - (WINDOW_MINUTES - 1) * MINUTE_MS;
    const buckets = emptyBuckets();
    let requests = 0;
    let errors5xx = 0;
    const minutes = [...(this.ring.get(serviceId) ?? []), this.services.get(serviceId)];
    for (const m of minutes) {
      if (!m || m.minute < since) continue;
      for (const n of m.classes) requests += n;
      errors5xx += m.classes[4] ?? 0;
      addBuckets(buckets, m.buckets);
    }
    return {
      windowSec: WINDOW_MINUTES * 60,
      requests,
      errors5xx,
      p50Ms: quantileMs(buckets, 0.5),
      p95Ms: quantileMs(buckets, 0.95),
      p99Ms: quantileMs(buckets, 0.99),
    };
  }
}

/**
 * Turns successive cumulative reads of the router's counters into deltas. A counter lower than
 * last time means the router started again from zero: its new value is then the delta.
 */
export class CounterDiff {
  private last = new Map<string, RawServiceMetrics>();
  private primed = false;

  diff(read: Record<string, RawServiceMetrics>): Map<string, TrafficDelta> {
    const out = new Map<string, TrafficDelta>();
    const next = new Map<string, RawServiceMetrics>();
    for (const [label, cur] of Object.entries(read)) {
      next.set(label, cur);
      const prev = this.last.get(label);
      const reset =
        !prev ||
        cur.classes.some((n, i) => n < (prev.classes[i] ?? 0)) ||
        cur.buckets.some((n, i) => n < (prev.buckets[i] ?? 0));
      const d: TrafficDelta = reset
        ? { classes: [...cur.classes], buckets: [...cur.buckets], sumMs: cur.sumMs }
        : {
            classes: cur.classes.map((n, i) => n - (prev.classes[i] ?? 0)),
            buckets: cur.buckets.map((n, i) => n - (prev.buckets[i] ?? 0)),
            sumMs: Math.max(0, cur.sumMs - prev.sumMs),
          };
      if (d.classes.some((n) => n > 0)) out.set(label, d);
    }
    this.last = next;
    // The first read only sets the baseline: what an adopted router counted before is not ours.
    if (!this.primed) {
      this.primed = true;
      return new Map();
    }
    return out;
  }
}
