/**
 * Per-service request metrics. Recording is a few array writes per request (no allocation, no
 * sorting); percentiles come from a fixed histogram only when someone asks. Raw counters are
 * plain numbers so several worker processes' figures can be added up exactly.
 */

// Upper bounds in milliseconds, roughly x1.5-x2 apart: percentiles are accurate to one bucket.
export const BUCKETS_MS = [
  0.25,
  0.5,
  1,
  2,
  3,
  5,
  7.5,
  10,
  15,
  20,
  30,
  50,
  75,
  100,
  150,
  200,
  300,
  500,
  750,
  1000,
  1500,
  2000,
  3000,
  5000,
  10000,
  30000,
  60000,
  Number.POSITIVE_INFINITY,
] as const;

/** Counters as recorded; add two of them with `mergeRaw`. */
export interface RawServiceMetrics {
  /** Requests by status class: index 0 is 1xx … index 4 is 5xx. */
  classes: number[];
  /** Request count per BUCKETS_MS bucket. */
  buckets: number[];
  sumMs: number;
  bytesIn: number;
  bytesOut: number;
  /** Exchanges cut short: the client went away or the backend broke off mid-body. */
  aborted: number;
}

export interface ServiceSummary {
  requests: { total: number; '1xx': number; '2xx': number; '3xx': number; '4xx': number; '5xx': number };
  latencyMs: { p50: number; p95: number; p99: number; mean: number };
  bytesIn: number;
  bytesOut: number;
  aborted: number;
}

/** Zeroed counters for one service. */
export function emptyRaw(): RawServiceMetrics {
  return {
    classes: [0, 0, 0, 0, 0],
    buckets: BUCKETS_MS.map(() => 0),
    sumMs: 0,
    bytesIn: 0,
    bytesOut: 0,
    aborted: 0,
  };
}

/** Adds one request; `status` outside 100-599 counts as 5xx (it was our failure to answer). */
export function record(m: RawServiceMetrics, status: number, ms: number, bytesIn: number, bytesOut: number) {
  const cls = (status / 100) | 0;
  m.classes[cls >= 1 && cls <= 5 ? cls - 1 : 4]!++;
  // Linear scan: most requests land in the first handful of buckets, cheaper than a bisection.
  let i = 0;
  while (ms > BUCKETS_MS[i]!) i++;
  m.buckets[i]!++;
  m.sumMs += ms;
  m.bytesIn += bytesIn;
  m.bytesOut += bytesOut;
}

/** Adds `from` into `into` (figures from several workers). */
export function mergeRaw(into: RawServiceMetrics, from: RawServiceMetrics): void {
  for (let i = 0; i < into.classes.length; i++) into.classes[i]! += from.classes[i] ?? 0;
  for (let i = 0; i < into.buckets.length; i++) into.buckets[i]! += from.buckets[i] ?? 0;
  into.sumMs += from.sumMs;
  into.bytesIn += from.bytesIn;
  into.bytesOut += from.bytesOut;
  into.aborted += from.aborted;
}

function percentile(m: RawServiceMetrics, total: number, q: number): number {
  if (total === 0) return 0;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < m.buckets.length; i++) {
    const n = m.buckets[i]!;
    if (n > 0 && seen + n >= rank) {
      // Interpolate inside the bucket; the open last bucket reports its lower edge.
      const lo = i === 0 ? 0 : BUCKETS_MS[i - 1]!;
      const hi = BUCKETS_MS[i]!;
      if (!Number.isFinite(hi)) return lo;
      return Math.round((lo + ((hi - lo) * (rank - seen)) / n) * 1000) / 1000;
    }
    seen += n;
  }
  return 0;
}

/** Totals by class and p50/p95/p99 from the histogram, as /metrics reports them. */
export function summarise(m: RawServiceMetrics): ServiceSummary {
  const [c1, c2, c3, c4, c5] = m.classes as [number, number, number, number, number];
  const total = c1 + c2 + c3 + c4 + c5;
  return {
    requests: { total, '1xx': c1, '2xx': c2, '3xx': c3, '4xx': c4, '5xx': c5 },
    latencyMs: {
      p50: percentile(m, total, 0.5),
      p95: percentile(m, total, 0.95),
      p99: percentile(m, total, 0.99),
      mean: total === 0 ? 0 : Math.round((m.sumMs / total) * 1000) / 1000,
    },
    bytesIn: m.bytesIn,
    bytesOut: m.bytesOut,
    aborted: m.aborted,
  };
}

/** Label under which requests for a host with no route are counted. */
export const UNKNOWN_SERVICE = '(unknown host)';

/**
 * Label under which the platform's probes of a service are counted: apart from its citizens'
 * requests. A service label is `DEPT/slug`, which never holds a space, so none can collide.
 */
export const probeLabel = (service: string) => `${service} (probes)`;

/** One RawServiceMetrics per service label, kept for the life of the process. */
export class MetricsRegistry {
  readonly #byService = new Map<string, RawServiceMetrics>();

  /** The counters for `service`; routes keep this reference so the hot path skips the map. */
  for(service: string): RawServiceMetrics {
    let m = this.#byService.get(service);
    if (!m) {
      m = emptyRaw();
      this.#byService.set(service, m);
    }
    return m;
  }

  raw(): Record<string, RawServiceMetrics> {
    return Object.fromEntries(this.#byService);
  }
}

/** Adds up raw snapshots (one per worker), service by service. */
export function mergeAll(snapshots: Record<string, RawServiceMetrics>[]): Record<string, RawServiceMetrics> {
  const total: Record<string, RawServiceMetrics> = {};
  for (const snap of snapshots) {
    for (const [service, raw] of Object.entries(snap)) {
      total[service] ??= emptyRaw();
      mergeRaw(total[service], raw);
    }
  }
  return total;
}

/** Adds up raw snapshots (one per worker) and turns them into the /metrics answer. */
export function summariseAll(snapshots: Record<string, RawServiceMetrics>[]): Record<string, ServiceSummary> {
  const total = new Map<string, RawServiceMetrics>();
  for (const snap of snapshots) {
    for (const [service, raw] of Object.entries(snap)) {
      let m = total.get(service);
      if (!m) {
        m = emptyRaw();
        total.set(service, m);
      }
      mergeRaw(m, raw);
    }
  }
  const out: Record<string, ServiceSummary> = {};
  for (const service of [...total.keys()].sort()) out[service] = summarise(total.get(service)!);
  return out;
}
