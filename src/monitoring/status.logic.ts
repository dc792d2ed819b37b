import { activeSpans } from '../catalog/lifecycle.repository.ts';
import * as services from '../catalog/service.repository.ts';
import type { Executor } from '../platform/database.ts';
import * as departments from '../tenancy/department.repository.ts';
import { firingAlerts } from './alert.repository.ts';
import {
  availabilityIn,
  clip,
  type Interval,
  maintenanceIntervals,
  mergeIntervals,
  outageIntervals,
} from './availability.ts';
import * as maintenance from './maintenance.repository.ts';
import { type Outage, outagesBetween } from './outage.repository.ts';
import type { ProbeStates } from './probe-states.ts';

/**
 * The public status feed: what citizens may know about the services, and nothing more (no ids,
 * no instance or internal addresses, no error text). Only `active` services are listed: planned
 * ones are not open to citizens yet, suspended and retired ones are withdrawn on purpose and are
 * not "down".
 */

export const STATUS_DAYS = 90;
const DAY_MS = 86_400_000;

export type PublicState = 'operational' | 'degraded' | 'down' | 'maintenance' | 'no-data';

/**
 * Firing alerts whose symptom citizens see. `service-down` keeps a service down on the page for
 * as long as the alert (and its incident) is open, through the alert's clear duration, so the
 * page never calls a service operational while the central team still treats it as down;
 * error-rate and latency make it `degraded`. Crash-loop and memory are about instances, which
 * other instances may hide from citizens: not shown.
 */
const CITIZEN_SYMPTOMS: Record<string, PublicState> = {
  'service-down': 'down',
  'error-rate': 'degraded',
  latency: 'degraded',
};

export interface PublicService {
  slug: string;
  nameEn: string;
  nameZh: string;
  state: PublicState;
  /** Availability over the days listed, percent; null without eligible time. */
  availability: number | null;
  /** One value per entry of the feed's `days`, oldest first: percent, or null (no time to measure). */
  daily: (number | null)[];
}

export interface PublicDepartment {
  code: string;
  nameEn: string;
  nameZh: string;
  services: PublicService[];
}

export interface PublicNotice {
  title: string;
  message: string;
  startsAt: string;
  endsAt: string;
  state: 'active' | 'upcoming';
  /** Null: platform-wide. */
  department: string | null;
  service: { slug: string; nameEn: string; nameZh: string } | null;
}

export interface StatusFeed {
  generatedAt: string;
  /** The UTC days `daily` values are for, oldest first; the last one is today, so far. */
  days: string[];
  summary: Record<PublicState, number>;
  departments: PublicDepartment[];
  maintenance: PublicNotice[];
}

// Catalogue reads have no "all" form; this bound is far above the paper's 218 services.
const ALL = { limit: 1_000_000, offset: 0 };
// Keeps each `in (...)` list well under PostgreSQL's 65,535 parameters.
const CHUNK = 5_000;

async function outagesOf(db: Executor, ids: string[], from: Date, to: Date): Promise<Outage[]> {
  const out: Outage[] = [];
  for (let i = 0; i < ids.length; i += CHUNK)
    out.push(...(await outagesBetween(db, ids.slice(i, i + CHUNK), from, to)));
  return out;
}

const groupBy = <T>(items: T[], key: (t: T) => string | null) => {
  const map = new Map<string | null, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = map.get(k);
    if (list) list.push(item);
    else map.set(k, [item]);
  }
  return map;
};

/**
 * Builds the feed: one read of the active services, one of when they were active (the
 * catalogue's lifecycle history), one of departments, one of the outages and one of the
 * maintenance windows of the last 90 days for all services together; each service's days are
 * then computed in memory from its merged intervals.
 */
export async function buildStatusFeed(
  db: Executor,
  probes: ProbeStates | null,
  now = new Date(),
): Promise<StatusFeed> {
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  const windowStart = today - (STATUS_DAYS - 1) * DAY_MS;
  const days = Array.from({ length: STATUS_DAYS }, (_, i) =>
    new Date(windowStart + i * DAY_MS).toISOString().slice(0, 10),
  );

  const active = (await services.list(db, null, ALL, { lifecycle: 'active' })).items;
  const depts = (await departments.list(db, null, ALL)).items;
  const ids = active.map((s) => s.id);
  // Days count only while a service was active: a day it spent suspended shows no figure.
  const spans = await activeSpans(db, ids, new Date(windowStart), now);
  const outages = groupBy(await outagesOf(db, ids, new Date(windowStart), now), (o) => o.serviceId);
  // Windows of the 90 days, plus every notice still to come for the notice list.
  const windows = groupBy(
    await maintenance.windowsBetween(db, 'all', new Date(windowStart), now),
    (w) => w.serviceId,
  );
  const platformWindows = windows.get(null) ?? [];
  const t = now.getTime();

  const byDepartment = groupBy(active, (s) => s.department_id);
  const summary: Record<PublicState, number> = {
    operational: 0,
    degraded: 0,
    down: 0,
    maintenance: 0,
    'no-data': 0,
  };
  const alerted = new Map<string, PublicState>();
  for (const a of await firingAlerts(db)) {
    const symptom = CITIZEN_SYMPTOMS[a.rule];
    if (symptom && alerted.get(a.service_id) !== 'down') alerted.set(a.service_id, symptom);
  }
  const notices = await maintenance.currentAndUpcoming(db, now);
  const underWay = new Set(notices.filter((n) => n.starts_at <= now).map((n) => n.service_id ?? 'platform'));

  const presentDepartments: PublicDepartment[] = [];
  for (const d of depts) {
    const list = byDepartment.get(d.id);
    if (!list) continue;
    presentDepartments.push({
      code: d.code,
      nameEn: d.name_en,
      nameZh: d.name_zh,
      services: list.map((s) => {
        const own = outages.get(s.id) ?? [];
        const down: Interval[] = mergeIntervals(outageIntervals(own, t));
        const planned: Interval[] = mergeIntervals(
          maintenanceIntervals([...platformWindows, ...(windows.get(s.id) ?? [])]),
        );
        const live: Interval[] = (spans.get(s.id) ?? []).map((a) => ({
          start: a.start.getTime(),
          end: a.end.getTime(),
        }));
        const daily = days.map((_, i) => {
          const day = clip(live, windowStart + i * DAY_MS, Math.min(windowStart + (i + 1) * DAY_MS, t));
          return availabilityIn(day, down, planned, null).availability;
        });
        const overall = availabilityIn(live, down, planned, null).availability;
        const probed = probes?.stateOf(s.id);
        const symptom = alerted.get(s.id);
        const state: PublicState =
          underWay.has('platform') || underWay.has(s.id)
            ? 'maintenance'
            : own.some((o) => o.endedAt === null)
              ? 'down'
              : symptom
                ? symptom
                : probes && (probed === undefined || probed === 'unknown')
                  ? 'no-data'
                  : 'operational';
        summary[state] += 1;
        return { slug: s.slug, nameEn: s.name_en, nameZh: s.name_zh, state, availability: overall, daily };
      }),
    });
  }

  const activeById = new Map(active.map((s) => [s.id, s]));
  const codeOf = new Map(depts.map((d) => [d.id, d.code]));
  const publicNotices: PublicNotice[] = [];
  for (const n of notices) {
    const svc = n.service_id ? activeById.get(n.service_id) : undefined;
    // A notice for a service that is not listed would name something citizens cannot see.
    if (n.service_id && !svc) continue;
    publicNotices.push({
      title: n.title,
      message: n.message,
      startsAt: n.starts_at.toISOString(),
      endsAt: n.ends_at.toISOString(),
      state: n.starts_at <= now ? 'active' : 'upcoming',
      department: n.department_id ? (codeOf.get(n.department_id) ?? null) : null,
      service: svc ? { slug: svc.slug, nameEn: svc.name_en, nameZh: svc.name_zh } : null,
    });
  }

  return {
    generatedAt: now.toISOString(),
    days,
    summary,
    departments: presentDepartments,
    maintenance: publicNotices,
  };
}

/**
 * The feed, computed at most once per `ttlMs` however many citizens ask: concurrent requests
 * share one computation, and a maintenance change drops the cached copy at once.
 */
export class StatusFeedCache<T> {
  private value: { data: T; expires: number } | null = null;
  private pending: Promise<T> | null = null;
  private generation = 0;

  constructor(
    private readonly load: () => Promise<T>,
    private readonly ttlMs = 5_000,
    private readonly clock: () => number = Date.now,
  ) {}

  async get(): Promise<T> {
    if (this.value && this.value.expires > this.clock()) return this.value.data;
    if (this.pending) return this.pending;
    const generation = this.generation;
    const loading = this.load()
      .then((data) => {
        // A change while loading may not be in `data`: serve it to those waiting, keep it for no one.
        if (generation === this.generation) this.value = { data, expires: this.clock() + this.ttlMs };
        return data;
      })
      .finally(() => {
        if (this.pending === loading) this.pending = null;
      });
    this.pending = loading;
    return loading;
  }

  invalidate(): void {
    this.generation += 1;
    this.value = null;
    this.pending = null;
  }
}
