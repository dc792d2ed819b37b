import { EventEmitter } from 'node:events';
import type { FastifyBaseLogger } from 'fastify';
import * as catalog from '../catalog/service.repository.ts';
import { SLA_TIERS, type SlaTier } from '../catalog/sla-tiers.ts';
import type { Db } from '../platform/database.ts';
import { groupUsage } from '../platform/proc-stats.ts';
import type { RawServiceMetrics } from '../router/metrics.ts';
import type { WatchedService } from '../runtime/orchestrator.ts';
import { deleteMinutesBefore, insertMinutes } from './metrics.repository.ts';
import type {
  InstanceSample,
  MonitoringEvents,
  ProbeResult,
  ServiceSnapshot,
  ServiceState,
} from './monitoring.types.ts';
import { closeOutage, closeOutagesOf, openOutage, openOutages } from './outage.repository.ts';
import { Prober } from './prober.ts';
import { CounterDiff, MINUTE_MS, Rollup, type Totals } from './rollup.ts';
import { hash32, nextAtPhase, TimerWheel } from './scheduler.ts';

const DAY_MS = 86_400_000;
// A first failure is re-checked soon, not a whole interval later: a fifth of the interval, at most 1 s.
const CONFIRM_MAX_MS = 1000;
const confirmDelay = (intervalMs: number) => Math.min(Math.round(intervalMs / 5), CONFIRM_MAX_MS);
const CATALOG_REFRESH_MS = 60_000;

export interface EngineOptions {
  db: Db;
  log: FastifyBaseLogger;
  /** The services the router serves, read from the runtime each sample. */
  watchList(): WatchedService[];
  routerUrl(): string;
  /** The router's cumulative raw counters per service label. */
  routerMetrics(): Promise<Record<string, RawServiceMetrics>>;
  /** The key that makes the router count probes apart from citizens' requests (router/probe-key.ts). */
  probeKey?: () => string | null;
  intervalMs: number;
  timeoutMs: number;
  retentionDays: number;
}

interface Watched {
  serviceId: string;
  departmentId: string;
  key: string;
  tier: SlaTier;
  hostname: string;
  path: string;
  phase: number;
  state: ServiceState;
  consecutiveFailures: number;
  firstFailAt: number | null;
  downSince: number | null;
  lastProbe: ProbeResult | null;
  probing: boolean;
  outageId: string | null;
  /** Outage writes of this service, one after another. */
  outageOps: Promise<void>;
  instances: InstanceSample[];
}

/** What the Prometheus endpoint shows of one service. */
export interface ServiceExposition {
  serviceId: string;
  departmentId: string;
  key: string;
  state: ServiceState;
  lastProbe: ProbeResult | null;
  totals: Totals | null;
  instances: (InstanceSample & { cpuSecondsTotal: number })[];
}

/**
 * The monitoring engine: probes every served service through the router on a spread schedule,
 * keeps outages, samples instances and router traffic, rolls it all up per minute, and tells the
 * rest of monitoring through `snapshot` and `unwatched` events.
 */
export class MonitoringEngine extends EventEmitter<MonitoringEvents> {
  private readonly watched = new Map<string, Watched>();
  private readonly wheel: TimerWheel<string>;
  private readonly prober: Prober;
  private readonly rollup = new Rollup(Date.now());
  private readonly counters = new CounterDiff();
  /** Per instance: the last /proc reading (to diff) and the CPU seconds counted since we watch. */
  private readonly cpu = new Map<string, { pid: number; seconds: number; total: number; restarts: number }>();
  private readonly catalogInfo = new Map<string, { departmentId: string; tier: SlaTier }>();
  private catalogAt = 0;
  private resumed = new Map<string, { id: string; startedAt: number }>();
  private sampleTimer: NodeJS.Timeout | null = null;
  private minuteTimer: NodeJS.Timeout | null = null;
  private retentionTimer: NodeJS.Timeout | null = null;
  private writes: Promise<void> = Promise.resolve();
  private sampling = false;
  private stopped = false;

  constructor(private readonly o: EngineOptions) {
    super();
    this.wheel = new TimerWheel<string>(10, o.intervalMs + CONFIRM_MAX_MS, (id, at) => this.due(id, at));
    this.prober = new Prober(o.routerUrl, o.timeoutMs, undefined, o.probeKey);
  }

  async start(): Promise<void> {
    try {
      for (const out of await openOutages(this.o.db))
        this.resumed.set(out.serviceId, { id: out.id, startedAt: out.startedAt.getTime() });
    } catch (err) {
      this.o.log.error({ err: (err as Error).message }, 'monitoring: cannot read open outages');
    }
    this.retention();
    this.retentionTimer = setInterval(() => this.retention(), DAY_MS);
    this.retentionTimer.unref();
    await this.sample();
    this.wheel.start();
    this.sampleTimer = setInterval(() => void this.sample(), this.o.intervalMs);
    this.sampleTimer.unref();
    this.armMinute();
  }

  /** Stops probing; writes the partial minute. No event and no write after it resolves. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wheel.stop();
    for (const t of [this.sampleTimer, this.retentionTimer]) if (t) clearInterval(t);
    if (this.minuteTimer) clearTimeout(this.minuteTimer);
    this.prober.close();
    const last = this.rollup.roll(Date.now(), true);
    if (last) this.write(last.services, last.instances);
    await Promise.allSettled([this.writes, ...[...this.watched.values()].map((w) => w.outageOps)]);
    this.removeAllListeners();
  }

  /** The live state of one service, or null when it is not watched. */
  current(serviceId: string): ServiceSnapshot | null {
    const w = this.watched.get(serviceId);
    return w ? this.snapshot(w, Date.now()) : null;
  }

  /** Every watched service (of one department, or all with null), for Prometheus. */
  exposition(departmentId: string | null): ServiceExposition[] {
    const out: ServiceExposition[] = [];
    for (const w of this.watched.values()) {
      if (departmentId !== null && w.departmentId !== departmentId) continue;
      out.push({
        serviceId: w.serviceId,
        departmentId: w.departmentId,
        key: w.key,
        state: w.state,
        lastProbe: w.lastProbe,
        totals: this.rollup.totals.get(w.serviceId) ?? null,
        instances: w.instances.map((i) => ({
          ...i,
          cpuSecondsTotal: this.cpu.get(i.instanceId)?.total ?? 0,
        })),
      });
    }
    return out.sort((a, b) => a.key.localeCompare(b.key));
  }

  /** The service's minute in progress (not in the store yet), so that series reach up to now. */
  liveMinute(serviceId: string) {
    return this.rollup.live(serviceId);
  }

  get size(): number {
    return this.watched.size;
  }

  // ---- probes ------------------------------------------------------------------------------

  private due(serviceId: string, _at: number): void {
    const w = this.watched.get(serviceId);
    if (!w || this.stopped) return;
    if (w.probing) {
      // The previous probe still waits for its timeout: skip this turn.
      this.wheel.schedule(w.serviceId, nextAtPhase(Date.now(), w.phase, this.o.intervalMs));
      return;
    }
    w.probing = true;
    void this.prober.probe({ hostname: w.hostname, path: w.path }).then((r) => this.probed(w, r));
  }

  private probed(w: Watched, r: ProbeResult): void {
    w.probing = false;
    if (this.stopped || this.watched.get(w.serviceId) !== w) return;
    const now = Date.now();
    w.lastProbe = r;
    this.rollup.addProbe(w.serviceId, r);
    if (r.ok) {
      w.consecutiveFailures = 0;
      w.firstFailAt = null;
      if (w.state === 'down') this.closeOutage(w, r.at);
      w.state = 'up';
      w.downSince = null;
    } else {
      w.consecutiveFailures++;
      if (w.consecutiveFailures === 1) w.firstFailAt = r.at;
      // Two failures in a row: one alone may be a blip (a restart, a dropped connection).
      if (w.consecutiveFailures >= 2 && w.state !== 'down') {
        w.state = 'down';
        w.downSince = w.firstFailAt ?? r.at;
        this.openOutage(w, w.downSince, r.error ?? 'probe failed');
      }
    }
    const confirm = !r.ok && w.consecutiveFailures === 1;
    this.wheel.schedule(
      w.serviceId,
      confirm ? now + confirmDelay(this.o.intervalMs) : nextAtPhase(now, w.phase, this.o.intervalMs),
    );
    this.emit('snapshot', this.snapshot(w, now));
  }

  private snapshot(w: Watched, now: number): ServiceSnapshot {
    return {
      serviceId: w.serviceId,
      departmentId: w.departmentId,
      key: w.key,
      tier: w.tier,
      state: w.state,
      downSince: w.downSince,
      lastProbe: w.lastProbe,
      consecutiveFailures: w.consecutiveFailures,
      traffic: this.rollup.trafficWindow(w.serviceId, now),
      instances: w.instances,
      at: now,
    };
  }

  // ---- outages -----------------------------------------------------------------------------

  private outageOp(w: Watched, what: string, fn: () => Promise<void>): void {
    w.outageOps = w.outageOps.then(fn).catch((err: Error) => {
      this.o.log.error({ service: w.key, err: err.message }, `monitoring: cannot ${what}`);
    });
  }

  private openOutage(w: Watched, at: number, cause: string): void {
    this.outageOp(w, 'open an outage', async () => {
      if (w.outageId) return;
      w.outageId = (await openOutage(this.o.db, w.serviceId, new Date(at), cause)).id;
    });
  }

  private closeOutage(w: Watched, at: number): void {
    this.outageOp(w, 'close an outage', async () => {
      const id = w.outageId;
      w.outageId = null;
      // Without an id (opening it failed) close whatever is open for the service.
      if (id) await closeOutage(this.o.db, id, new Date(at));
      else await closeOutagesOf(this.o.db, w.serviceId, new Date(at));
    });
  }

  // ---- watch list, instances, traffic ----------------------------------------------------

  private async refreshCatalog(ids: string[], force: boolean): Promise<void> {
    const missing = ids.some((id) => !this.catalogInfo.has(id));
    if (!missing && !force) return;
    const { items } = await catalog.list(
      this.o.db,
      null,
      { limit: 1_000_000, offset: 0 },
      { lifecycle: 'active' },
    );
    this.catalogInfo.clear();
    for (const r of items) {
      const tier = (r.sla_tier in SLA_TIERS ? r.sla_tier : 'bronze') as SlaTier;
      this.catalogInfo.set(r.id, { departmentId: r.department_id, tier });
    }
    this.catalogAt = Date.now();
  }

  /** Every probe interval: the watch list, instance figures and router counters. */
  private async sample(): Promise<void> {
    if (this.sampling || this.stopped) return;
    this.sampling = true;
    try {
      const list = this.o.watchList();
      try {
        await this.refreshCatalog(
          list.map((s) => s.serviceId),
          Date.now() - this.catalogAt > CATALOG_REFRESH_MS,
        );
      } catch (err) {
        this.o.log.error({ err: (err as Error).message }, 'monitoring: cannot read the catalog');
      }
      if (this.stopped) return;
      this.applyWatchList(list);
      this.sampleInstances(list);
      try {
        const read = await this.o.routerMetrics();
        if (this.stopped) return;
        const byKey = new Map([...this.watched.values()].map((w) => [w.key, w.serviceId]));
        for (const [label, d] of this.counters.diff(read)) {
          const id = byKey.get(label);
          if (id) this.rollup.addTraffic(id, d);
        }
      } catch (err) {
        // The router may be restarting: its counters are read again next time.
        this.o.log.debug({ err: (err as Error).message }, 'monitoring: router metrics unavailable');
      }
    } finally {
      this.sampling = false;
    }
  }

  private applyWatchList(list: WatchedService[]): void {
    const now = Date.now();
    const seen = new Set<string>();
    for (const s of list) {
      const info = this.catalogInfo.get(s.serviceId);
      // Not (or no longer) active in the catalog: a suspended service on its way out.
      if (!info) continue;
      seen.add(s.serviceId);
      const w = this.watched.get(s.serviceId);
      if (w) {
        w.hostname = s.hostname;
        w.path = s.healthPath;
        w.key = s.key;
        w.tier = info.tier;
        w.departmentId = info.departmentId;
        continue;
      }
      const resumed = this.resumed.get(s.serviceId);
      this.resumed.delete(s.serviceId);
      const fresh: Watched = {
        serviceId: s.serviceId,
        departmentId: info.departmentId,
        key: s.key,
        tier: info.tier,
        hostname: s.hostname,
        path: s.healthPath,
        phase: hash32(s.serviceId) % this.o.intervalMs,
        state: resumed ? 'down' : 'unknown',
        consecutiveFailures: resumed ? 2 : 0,
        firstFailAt: resumed?.startedAt ?? null,
        downSince: resumed?.startedAt ?? null,
        lastProbe: null,
        probing: false,
        outageId: resumed?.id ?? null,
        outageOps: Promise.resolve(),
        instances: [],
      };
      this.watched.set(s.serviceId, fresh);
      this.wheel.schedule(s.serviceId, nextAtPhase(now, fresh.phase, this.o.intervalMs));
    }
    for (const w of [...this.watched.values()]) {
      if (seen.has(w.serviceId)) continue;
      this.watched.delete(w.serviceId);
      this.wheel.cancel(w.serviceId);
      this.rollup.drop(w.serviceId);
      for (const i of w.instances) this.cpu.delete(i.instanceId);
      this.outageOp(w, 'close an outage', () => closeOutagesOf(this.o.db, w.serviceId, new Date(now)));
      this.emit('unwatched', { serviceId: w.serviceId, at: now });
    }
    // Outages of services that are not served any more (retired while we were not running).
    for (const [serviceId] of this.resumed) {
      if (list.some((s) => s.serviceId === serviceId)) continue;
      this.resumed.delete(serviceId);
      this.writes = this.writes
        .then(() => closeOutagesOf(this.o.db, serviceId, new Date(now)))
        .catch((err: Error) => this.o.log.error({ err: err.message }, 'monitoring: cannot close an outage'));
    }
  }

  private sampleInstances(list: WatchedService[]): void {
    const pids = new Set<number>();
    for (const s of list) for (const i of s.instances) if (i.pid) pids.add(i.pid);
    const usage = groupUsage(pids);
    const now = performance.now();
    const live = new Set<string>();
    for (const s of list) {
      const w = this.watched.get(s.serviceId);
      if (!w) continue;
      const rows = s.instances.map((st) => {
        live.add(st.instanceId);
        const u = st.pid ? usage.get(st.pid) : undefined;
        const prev = this.cpu.get(st.instanceId);
        let cpuDelta = 0;
        let share: number | null = null;
        if (u && st.pid) {
          // A new pid (a restart) starts its own count from zero.
          cpuDelta = prev && prev.pid === st.pid ? Math.max(0, u.cpuSeconds - prev.seconds) : u.cpuSeconds;
          if (prev && prev.pid === st.pid && this.lastSampleAt !== null)
            share = Math.round((cpuDelta / ((now - this.lastSampleAt) / 1000)) * 1000) / 1000;
        }
        const restartsDelta = prev ? Math.max(0, st.restarts - prev.restarts) : 0;
        this.cpu.set(st.instanceId, {
          pid: st.pid ?? 0,
          seconds: u?.cpuSeconds ?? prev?.seconds ?? 0,
          total: (prev?.total ?? 0) + cpuDelta,
          restarts: st.restarts,
        });
        return {
          sample: {
            instanceId: st.instanceId,
            state: st.state,
            restarts: st.restarts,
            memoryBytes: u ? u.rssBytes : null,
            memoryLimitBytes: st.memoryLimitBytes,
            cpu: share,
          } satisfies InstanceSample,
          cpuSeconds: cpuDelta,
          restartsDelta,
        };
      });
      w.instances = rows.map((r) => r.sample);
      this.rollup.addInstances(
        w.serviceId,
        rows.map((r) => ({
          instanceId: r.sample.instanceId,
          state: r.sample.state,
          cpuSeconds: r.cpuSeconds,
          memoryBytes: r.sample.memoryBytes,
          memoryLimitBytes: r.sample.memoryLimitBytes,
          restarts: r.restartsDelta,
        })),
      );
    }
    for (const id of [...this.cpu.keys()]) if (!live.has(id)) this.cpu.delete(id);
    this.lastSampleAt = now;
  }

  private lastSampleAt: number | null = null;

  // ---- minutes and retention ---------------------------------------------------------------

  private armMinute(): void {
    if (this.stopped) return;
    const now = Date.now();
    // A little after the boundary, so the timer never fires a hair early, in the old minute.
    this.minuteTimer = setTimeout(() => this.endMinute(), MINUTE_MS - (now % MINUTE_MS) + 20);
    this.minuteTimer.unref();
  }

  private endMinute(): void {
    if (this.stopped) return;
    const done = this.rollup.roll(Date.now());
    if (done) this.write(done.services, done.instances);
    this.armMinute();
  }

  private write(
    services: Parameters<typeof insertMinutes>[1],
    instances: Parameters<typeof insertMinutes>[2],
  ) {
    if (services.length === 0 && instances.length === 0) return;
    this.writes = this.writes
      .then(() => insertMinutes(this.o.db, services, instances))
      .catch((err: Error) =>
        this.o.log.error({ err: err.message, rows: services.length }, 'monitoring: cannot write a minute'),
      );
  }

  private retention(): void {
    if (this.stopped) return;
    const before = new Date(Date.now() - this.o.retentionDays * DAY_MS);
    this.writes = this.writes
      .then(async () => {
        const n = await deleteMinutesBefore(this.o.db, before);
        if (n > 0)
          this.o.log.info({ minutes: n, before: before.toISOString() }, 'monitoring: old minutes deleted');
      })
      .catch((err: Error) => this.o.log.error({ err: err.message }, 'monitoring: retention failed'));
  }
}
