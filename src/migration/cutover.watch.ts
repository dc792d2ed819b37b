import type { FastifyBaseLogger } from 'fastify';
import { MIN_REQUESTS } from '../monitoring/alert-rules.ts';
import type { Db } from '../platform/database.ts';
import { legacyLabel } from '../router/cutover.ts';
import { emptyRaw, type RawServiceMetrics, summarise } from '../router/metrics.ts';
import type { CutoverRow } from './cutover.repository.ts';

/** The window compared (and judged by the fallback rule): the error-rate alert's 5 minutes. */
export const WINDOW_MS = 5 * 60_000;

/** One side of a parallel run, over the window. */
export interface Side {
  requests: number;
  errors5xx: number;
  /** Percent of requests answered 5xx; null without requests. */
  errorRate: number | null;
  latencyMs: { p50: number; p95: number; mean: number };
}

export interface Comparison {
  service: string;
  percent: number;
  /** Seconds the figures cover (less than 5 minutes just after a start). */
  windowSec: number;
  new: Side;
  legacy: Side;
}

export interface WatchOptions {
  db: Db;
  log: FastifyBaseLogger;
  /** The router's raw counters by label (cumulative since it started). */
  routerMetrics(): Promise<Record<string, RawServiceMetrics>>;
  /** Cut-overs to follow (all of them; the fallback rule applies to those that set one). */
  cutovers(db: Db): Promise<CutoverRow[]>;
  /** Sends all traffic back to legacy; resolves true when it did. */
  fallBack(serviceId: string, reason: string): Promise<boolean>;
  intervalMs: number;
}

/** `b - a`, counter by counter; a router restart (counters fell) starts from `b`. */
function delta(a: RawServiceMetrics | undefined, b: RawServiceMetrics | undefined): RawServiceMetrics {
  const out = emptyRaw();
  if (!b) return out;
  const total = (m: RawServiceMetrics) => m.classes.reduce((x, y) => x + y, 0);
  const base = a && total(a) <= total(b) ? a : emptyRaw();
  out.classes = b.classes.map((v, i) => v - (base.classes[i] ?? 0));
  out.buckets = b.buckets.map((v, i) => v - (base.buckets[i] ?? 0));
  out.sumMs = b.sumMs - base.sumMs;
  return out;
}

function side(m: RawServiceMetrics): Side {
  const s = summarise(m);
  const requests = s.requests.total;
  return {
    requests,
    errors5xx: s.requests['5xx'],
    errorRate: requests === 0 ? null : Math.round((s.requests['5xx'] / requests) * 10_000) / 100,
    latencyMs: { p50: s.latencyMs.p50, p95: s.latencyMs.p95, mean: s.latencyMs.mean },
  };
}

/**
 * Follows the router's counters of every cut-over, legacy and new side by side over a sliding
 * 5-minute window, and applies each cut-over's fallback rule: once the new release answers more
 * than `fallback_error_rate` % of at least MIN_REQUESTS requests with 5xx, all traffic goes back
 * to the legacy service at once (audited). Runs where the runtime runs (it reads its router).
 */
export class CutoverWatch {
  #samples: { at: number; raw: Record<string, RawServiceMetrics> }[] = [];
  #rows: CutoverRow[] = [];
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> = Promise.resolve();

  constructor(private readonly o: WatchOptions) {}

  start(): void {
    this.#timer = setInterval(() => {
      this.#running = this.#running.then(() => this.tick());
    }, this.o.intervalMs);
    this.#timer.unref();
    this.#running = this.tick();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  /** One sample of the router's counters, then the fallback rule of every cut-over that has one. */
  async tick(): Promise<void> {
    try {
      this.#rows = await this.o.cutovers(this.o.db);
      const read = await this.o.routerMetrics();
      const now = Date.now();
      const raw: Record<string, RawServiceMetrics> = {};
      for (const r of this.#rows) {
        const key = `${r.department_code}/${r.slug}`;
        for (const label of [key, legacyLabel(key)]) if (read[label]) raw[label] = read[label];
      }
      this.#samples.push({ at: now, raw });
      while (this.#samples.length > 2 && now - this.#samples[1]!.at >= WINDOW_MS) this.#samples.shift();
      for (const r of this.#rows) {
        if (r.fallback_error_rate === null || r.percent === 0) continue;
        const c = this.compare(r);
        const rate = c?.new.errorRate ?? null;
        if (!c || rate === null || c.new.requests < MIN_REQUESTS || rate <= r.fallback_error_rate) continue;
        const reason = `${rate} % of ${c.new.requests} requests to the new release answered 5xx (rule: above ${r.fallback_error_rate} %)`;
        if (await this.o.fallBack(r.service_id, reason)) {
          this.o.log.warn({ service: c.service, reason }, 'cut-over: all traffic back to the legacy service');
        }
      }
    } catch (err) {
      // The router may be restarting; the next tick reads it again.
      this.o.log.debug({ err: (err as Error).message }, 'cut-over watch: no router metrics');
    }
  }

  /**
   * Legacy and new over the window since the cut-over last changed: figures from long before a
   * shift describe another split, and would send a fresh shift straight back. The baseline is the
   * last sample before the change (at most one interval of the old split), so that requests right
   * after a change count even before the next sample; null before the first sample.
   */
  compare(r: CutoverRow): Comparison | null {
    const last = this.#samples.at(-1);
    if (!last) return null;
    const since = r.updated_at.getTime();
    let first = this.#samples[0]!;
    for (const s of this.#samples) if (s.at < since) first = s;
    const key = `${r.department_code}/${r.slug}`;
    return {
      service: key,
      percent: r.percent,
      windowSec: Math.round((last.at - first.at) / 1000),
      new: side(delta(first.raw[key], last.raw[key])),
      legacy: side(delta(first.raw[legacyLabel(key)], last.raw[legacyLabel(key)])),
    };
  }
}
