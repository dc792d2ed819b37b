import type { LifecycleState } from '../catalog/catalog.tables.ts';
import { activeSpans } from '../catalog/lifecycle.repository.ts';
import * as services from '../catalog/service.repository.ts';
import { SLA_TIERS, type SlaTier } from '../catalog/sla-tiers.ts';
import type { Db } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { resolveDepartment } from '../tenancy/department.logic.ts';
import { authorize, departmentScope, type Principal } from '../tenancy/principal.ts';
import { computeAvailability, toMinutes } from './availability.ts';
import { incidentCountsBetween } from './incident.repository.ts';
import { type MaintenanceWindow, windowsBetween } from './maintenance.repository.ts';
import { type Outage, outagesBetween } from './outage.repository.ts';

/** The calendar month `YYYY-MM` as [from, to) in UTC; a 400 saying exactly what is wrong otherwise. */
export function parseMonth(month: string, now: Date): { month: string; from: Date; to: Date } {
  const bad = (message: string) =>
    new DomainError('GOVHOST_VALIDATION', `month ${message}`, {
      errors: [{ field: 'querystring/month', message }],
    });
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  if (!m) throw bad(`must be written YYYY-MM, e.g. 2026-11; got ${JSON.stringify(month)}`);
  const year = Number(m[1]);
  const mon = Number(m[2]);
  if (mon < 1 || mon > 12) throw bad(`${month} does not exist: the month part must be 01 to 12`);
  if (year < 2000) throw bad(`${month} is before the year 2000`);
  const from = new Date(Date.UTC(year, mon - 1, 1));
  const to = new Date(Date.UTC(year, mon, 1));
  if (from > now) throw bad(`${month} has not begun yet`);
  return { month, from, to };
}

export interface SlaLine {
  department: string;
  service: string;
  nameEn: string;
  /** The service's state now (not in the month): a `retired` one was active for part of it. */
  lifecycle: LifecycleState;
  tier: SlaTier;
  target: number;
  eligibleMinutes: number;
  downtimeMinutes: number;
  maintenanceMinutes: number;
  /** Percent, cut to three decimals; null when the service had no eligible time in the month. */
  availability: number | null;
  met: boolean | null;
  outages: number;
  incidents: number;
}

export interface SlaReport {
  month: string;
  from: string;
  to: string;
  generatedAt: string;
  /** The month is still running: figures are up to `generatedAt`. */
  partial: boolean;
  services: SlaLine[];
  totals: {
    services: number;
    met: number;
    notMet: number;
    eligibleMinutes: number;
    downtimeMinutes: number;
    maintenanceMinutes: number;
    /** Over all services together: total up time over total eligible time. */
    availability: number | null;
    outages: number;
    incidents: number;
  };
}

// Catalogue reads have no "all" form; this bound is far above the paper's 218 services.
const ALL = { limit: 1_000_000, offset: 0 };
const CHUNK = 5_000;

async function inChunks<T>(ids: string[], read: (chunk: string[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) out.push(...(await read(ids.slice(i, i + CHUNK))));
  return out;
}

/**
 * Monthly availability of each service against its tier. The report covers every service that
 * was `active` at some time in the month, whatever its state now (one retired mid-month owed its
 * SLA until then), and counts only the time it was active: planned (before its first release),
 * suspended and retired time is not promised. A department user gets its own department's;
 * naming another department answers 404, as it does everywhere.
 */
export async function slaReport(
  db: Db,
  caller: Principal,
  query: { month: string; department?: string },
  opts: { now?: Date } = {},
): Promise<SlaReport> {
  authorize(caller, 'monitoring:read');
  const now = opts.now ?? new Date();
  const { month, from, to } = parseMonth(query.month, now);
  const departmentId = query.department
    ? (await resolveDepartment(db, caller, query.department)).id
    : undefined;
  const all = (await services.list(db, departmentScope(caller), ALL, { departmentId })).items;
  const spans = await activeSpans(
    db,
    all.map((s) => s.id),
    from,
    to,
  );
  const rows = all.filter((s) => spans.has(s.id));
  const ids = rows.map((s) => s.id);
  const outages = await inChunks<Outage>(ids, (c) => outagesBetween(db, c, from, to));
  const windows = await inChunks<MaintenanceWindow>(ids, (c) => windowsBetween(db, c, from, to));
  const incidents = await incidentCountsBetween(db, ids, from, to);
  const outagesOf = new Map<string, Outage[]>();
  for (const o of outages) outagesOf.set(o.serviceId, [...(outagesOf.get(o.serviceId) ?? []), o]);
  const windowsOf = new Map<string | null, MaintenanceWindow[]>();
  for (const w of windows) windowsOf.set(w.serviceId, [...(windowsOf.get(w.serviceId) ?? []), w]);
  const platformWide = windowsOf.get(null) ?? [];

  let eligible = 0;
  let down = 0;
  let planned = 0;
  const lines = rows.map((s): SlaLine => {
    const tier = (s.sla_tier in SLA_TIERS ? s.sla_tier : 'bronze') as SlaTier;
    const target = SLA_TIERS[tier].target;
    const a = computeAvailability({
      from,
      to,
      active: spans.get(s.id) ?? [],
      now,
      outages: outagesOf.get(s.id) ?? [],
      maintenance: [...platformWide, ...(windowsOf.get(s.id) ?? [])],
      target,
    });
    eligible += a.eligibleSeconds;
    down += a.downtimeSeconds;
    planned += a.maintenanceSeconds;
    return {
      department: s.department_code,
      service: s.slug,
      nameEn: s.name_en,
      lifecycle: s.lifecycle,
      tier,
      target,
      eligibleMinutes: toMinutes(a.eligibleSeconds),
      downtimeMinutes: toMinutes(a.downtimeSeconds),
      maintenanceMinutes: toMinutes(a.maintenanceSeconds),
      availability: a.availability,
      met: a.met,
      outages: a.outages,
      incidents: incidents.get(s.id) ?? 0,
    };
  });
  return {
    month,
    from: from.toISOString(),
    to: to.toISOString(),
    generatedAt: now.toISOString(),
    partial: now < to,
    services: lines,
    totals: {
      services: lines.length,
      met: lines.filter((l) => l.met === true).length,
      notMet: lines.filter((l) => l.met === false).length,
      eligibleMinutes: toMinutes(eligible),
      downtimeMinutes: toMinutes(down),
      maintenanceMinutes: toMinutes(planned),
      availability: eligible > 0 ? Math.floor(((eligible - down) * 100_000) / eligible) / 1000 : null,
      outages: lines.reduce((n, l) => n + l.outages, 0),
      incidents: lines.reduce((n, l) => n + l.incidents, 0),
    },
  };
}
