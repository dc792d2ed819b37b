import { recordChange } from '../audit/audit.logic.ts';
import { SLA_TIER_NAMES } from '../catalog/sla-tiers.ts';
import type { Config } from '../platform/config.ts';
import type { Db, Executor } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { auditContext, authorize, type Caller, type Principal } from '../tenancy/principal.ts';
import { addCountedMs, type Calendar, elapsedMs, parseHours, type Span } from './business-hours.ts';
import { HK_PUBLIC_HOLIDAYS } from './hk-holidays.ts';
import * as repo from './sla.repository.ts';
import type { EventRow, TicketRow } from './ticket.repository.ts';
import type { Priority, TicketStatus } from './ticket.tables.ts';
import { PAUSED } from './ticket-states.ts';

/** Near a breach from this share of a target on (the warning before it). */
export const WARN_AT = 0.8;

export interface Target {
  priority: Priority;
  tier: string;
  responseMinutes: number;
  resolutionMinutes: number;
  hours: '24x7' | 'business';
  updatedBy: string;
  updatedAt: string;
}

const present = (r: Awaited<ReturnType<typeof repo.listTargets>>[number]): Target => ({
  priority: r.priority,
  tier: r.tier,
  responseMinutes: r.response_minutes,
  resolutionMinutes: r.resolution_minutes,
  hours: r.hours,
  updatedBy: r.updated_by,
  updatedAt: r.updated_at.toISOString(),
});

const calendars = new Map<string, Calendar>();
/** The desk's business-hours calendar: the configured hours, Hong Kong's holidays and the configured extra days. */
export function calendarOf(config: Pick<Config, 'supportHours' | 'supportHolidays'>): Calendar {
  const key = `${config.supportHours}|${config.supportHolidays.join(',')}`;
  let cal = calendars.get(key);
  if (!cal) {
    cal = parseHours(config.supportHours, [...HK_PUBLIC_HOLIDAYS, ...config.supportHolidays]);
    calendars.set(key, cal);
  }
  return cal;
}

export async function listTargets(db: Db, caller: Principal): Promise<Target[]> {
  authorize(caller, 'service:read');
  return (await repo.listTargets(db)).map(present);
}

/** Sets the targets of one priority and tier (operators); resolution may not be sooner than response. */
export async function setTarget(
  db: Db,
  caller: Caller,
  priority: Priority,
  tier: string,
  input: { responseMinutes: number; resolutionMinutes: number; hours: '24x7' | 'business' },
): Promise<Target> {
  authorize(caller, 'ticket:operate');
  if (!(SLA_TIER_NAMES as readonly string[]).includes(tier))
    throw new DomainError('GOVHOST_TICKET_INVALID', `tier must be one of ${SLA_TIER_NAMES.join(', ')}`);
  if (input.resolutionMinutes < input.responseMinutes)
    throw new DomainError(
      'GOVHOST_TICKET_INVALID',
      'resolutionMinutes may not be less than responseMinutes',
      {
        errors: [{ field: 'resolutionMinutes', message: 'is less than responseMinutes' }],
      },
    );
  return db.transaction().execute(async (trx) => {
    const before = await repo.findTarget(trx, priority, tier);
    await repo.upsertTarget(trx, {
      priority,
      tier,
      response_minutes: input.responseMinutes,
      resolution_minutes: input.resolutionMinutes,
      hours: input.hours,
      updated_by: caller.username,
    });
    const after = present((await repo.findTarget(trx, priority, tier))!);
    await recordChange(trx, auditContext(caller), {
      action: 'sla-target.set',
      targetType: 'sla-target',
      targetId: `${tier}/${priority}`,
      departmentId: null,
      before: before ? present(before) : null,
      after,
    });
    return after;
  });
}

/** One SLA clock of a ticket, as shown on it. */
export interface Clock {
  targetMinutes: number;
  elapsedMinutes: number;
  /** When it will breach if nothing changes; null once stopped or while paused. */
  dueAt: string | null;
  state: 'running' | 'paused' | 'met' | 'breached';
  /** At or past WARN_AT of the target. */
  near: boolean;
  hours: '24x7' | 'business';
}

/** The spans a ticket's clocks stood still: while it waited on the department, or stood resolved. */
export function pausedSpans(ticket: TicketRow, events: EventRow[], now: Date): Span[] {
  const spans: Span[] = [];
  let status: TicketStatus = 'new';
  let since = ticket.raised_at;
  for (const e of events) {
    if (e.kind !== 'status' || !e.to_status) continue;
    if (PAUSED.has(status)) spans.push({ from: since, to: e.at });
    status = e.to_status;
    since = e.at;
  }
  if (PAUSED.has(status)) spans.push({ from: since, to: now });
  return spans;
}

function clock(
  cal: Calendar | null,
  hours: Clock['hours'],
  targetMinutes: number,
  start: Date,
  stoppedAt: Date | null,
  paused: Span[],
  pausedNow: boolean,
  now: Date,
): Clock {
  const end = stoppedAt ?? now;
  const elapsed = elapsedMs(cal, start, end, paused);
  const target = targetMinutes * 60_000;
  const breached = elapsed > target;
  return {
    targetMinutes,
    elapsedMinutes: Math.floor(elapsed / 60_000),
    dueAt: stoppedAt || pausedNow || breached ? null : addCountedMs(cal, now, target - elapsed).toISOString(),
    state: breached ? 'breached' : stoppedAt ? 'met' : pausedNow ? 'paused' : 'running',
    near: elapsed >= target * WARN_AT,
    hours,
  };
}

/** Both clocks of a ticket at `now`: first response, and resolution (paused while waiting or resolved). */
export function clocksOf(
  ticket: TicketRow,
  events: EventRow[],
  target: { response_minutes: number; resolution_minutes: number; hours: '24x7' | 'business' } | undefined,
  cal: Calendar,
  now: Date,
): { response: Clock; resolution: Clock } | null {
  if (!target) return null;
  const c = target.hours === 'business' ? cal : null;
  const paused = pausedSpans(ticket, events, now);
  const pausedNow = PAUSED.has(ticket.status);
  const done = ticket.resolved_at ?? ticket.closed_at;
  return {
    response: clock(
      c,
      target.hours,
      target.response_minutes,
      ticket.raised_at,
      ticket.first_response_at,
      [],
      false,
      now,
    ),
    resolution: clock(
      c,
      target.hours,
      target.resolution_minutes,
      ticket.raised_at,
      done,
      paused,
      pausedNow,
      now,
    ),
  };
}

/** The targets by `priority/tier`, for clocks of many tickets. */
export async function targetsByKey(db: Executor) {
  return new Map((await repo.listTargets(db)).map((t) => [`${t.priority}/${t.tier}`, t]));
}
