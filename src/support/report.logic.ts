/**
 * The desk's monthly report: per department and priority, how many tickets were raised, how long
 * the first response and the resolution took on their SLA clocks (business or 24x7 minutes, less
 * the time the ticket waited on the department), and how many missed their targets.
 */
import type { Db } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { resolveDepartment } from '../tenancy/department.logic.ts';
import { authorize, departmentScope, type Principal } from '../tenancy/principal.ts';
import { monthSpan } from './business-hours.ts';
import { calendarOf, clocksOf, targetsByKey } from './sla.logic.ts';
import type { TicketDeps } from './ticket.logic.ts';
import * as repo from './ticket.repository.ts';
import type { Priority } from './ticket.tables.ts';

export interface ReportLine {
  department: string;
  priority: Priority;
  tickets: number;
  responded: number;
  /** Median minutes to the first response, on the ticket's SLA clock; null: none responded. */
  responseMedianMinutes: number | null;
  responseBreaches: number;
  resolved: number;
  resolutionMedianMinutes: number | null;
  resolutionBreaches: number;
}

export interface SupportReport {
  month: string;
  lines: ReportLine[];
}

const median = (xs: number[]) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : Math.round(((s[mid - 1] as number) + (s[mid] as number)) / 2);
};

/** Tickets raised in `month` (YYYY-MM, in the desk's time zone: Hong Kong's by default), by department and priority. */
export async function monthlyReport(
  deps: TicketDeps & { db: Db },
  caller: Principal,
  opts: { month: string; department?: string },
  now = new Date(),
): Promise<SupportReport> {
  authorize(caller, 'service:read');
  const [y, m] = opts.month.split('-').map(Number) as [number, number];
  if (m < 1 || m > 12) throw new DomainError('GOVHOST_VALIDATION', `month ${opts.month} has no month ${m}`);
  const { from, to } = monthSpan(calendarOf(deps.config).timeZone, y, m);
  const scope = opts.department
    ? (await resolveDepartment(deps.db, caller, opts.department)).id
    : departmentScope(caller);
  const tickets = await repo.raisedBetween(deps.db, scope, from, to);
  const events = await repo.eventsOf(
    deps.db,
    tickets.map((t) => t.id),
    false,
  );
  const targets = await targetsByKey(deps.db);
  const cal = calendarOf(deps.config);
  const groups = new Map<string, { line: ReportLine; response: number[]; resolution: number[] }>();
  for (const t of tickets) {
    const key = `${t.department_code}/${t.priority}`;
    let g = groups.get(key);
    if (!g) {
      g = {
        line: {
          department: t.department_code,
          priority: t.priority,
          tickets: 0,
          responded: 0,
          responseMedianMinutes: null,
          responseBreaches: 0,
          resolved: 0,
          resolutionMedianMinutes: null,
          resolutionBreaches: 0,
        },
        response: [],
        resolution: [],
      };
      groups.set(key, g);
    }
    g.line.tickets++;
    const clocks = clocksOf(
      t,
      events.filter((e) => Number(e.ticket_id) === Number(t.id)),
      targets.get(`${t.priority}/${t.sla_tier}`),
      cal,
      now,
    );
    if (t.first_response_at) {
      g.line.responded++;
      if (clocks) g.response.push(clocks.response.elapsedMinutes);
    }
    if (t.resolved_at || t.closed_at) {
      g.line.resolved++;
      if (clocks) g.resolution.push(clocks.resolution.elapsedMinutes);
    }
    if (clocks?.response.state === 'breached' || t.response_breached_at) g.line.responseBreaches++;
    if (clocks?.resolution.state === 'breached' || t.resolution_breached_at) g.line.resolutionBreaches++;
  }
  const lines = [...groups.values()]
    .map((g) => ({
      ...g.line,
      responseMedianMinutes: median(g.response),
      resolutionMedianMinutes: median(g.resolution),
    }))
    .sort((a, b) => a.department.localeCompare(b.department) || a.priority.localeCompare(b.priority));
  return { month: opts.month, lines };
}
