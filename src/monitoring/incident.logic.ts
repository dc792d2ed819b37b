/**
 * Incidents: opened when an alert fires, resolved when it clears, handled by the central team
 * in between. Every change adds to the incident's timeline, leaves a console notification for
 * the department, and (opened, resolved) queues notifications in the same transaction.
 */
import { recordChange } from '../audit/audit.logic.ts';
import { resolveService } from '../catalog/service.logic.ts';
import type { Db, Executor } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import type { Page, PageOf } from '../platform/pagination.ts';
import {
  auditContext,
  authorize,
  type Caller,
  departmentScope,
  type Principal,
} from '../tenancy/principal.ts';
import { isDepartmentRole } from '../tenancy/roles.ts';
import { getUser } from '../tenancy/user.logic.ts';
import type { AlertRow } from './alert.repository.ts';
import { REOPEN_WINDOW_SEC, type RuleName, type Severity } from './alert-rules.ts';
import type { IncidentEventRow, IncidentRow } from './incident.repository.ts';
import * as repo from './incident.repository.ts';
import type { IncidentEventKind } from './monitoring.tables.ts';
import { fanOut } from './notification.logic.ts';
import { insertConsole } from './notification.repository.ts';

export interface Actor {
  id: string | null;
  name: string;
}

/** The platform itself, for what the evaluator and the dispatcher do. */
export const SYSTEM: Actor = { id: null, name: 'govhost' };

export interface Incident {
  id: number;
  service: string;
  rule: RuleName;
  severity: Severity;
  state: 'open' | 'resolved';
  title: string;
  alertId: string | null;
  openedAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  assignee: string | null;
  resolvedAt: string | null;
  resolvedBy: string | null;
  timeToAcknowledgeSec: number | null;
  timeToResolveSec: number | null;
}

export interface IncidentEvent {
  id: number;
  kind: IncidentEventKind;
  actor: string;
  detail: string;
  at: string;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const presentIncident = (r: IncidentRow): Incident => ({
  id: r.id,
  service: r.service_key,
  rule: r.rule as RuleName,
  severity: r.severity as Severity,
  state: r.state,
  title: r.title,
  alertId: r.alert_id,
  openedAt: r.opened_at.toISOString(),
  acknowledgedAt: iso(r.acknowledged_at),
  acknowledgedBy: r.acknowledged_by,
  assignee: r.assignee_name,
  resolvedAt: iso(r.resolved_at),
  resolvedBy: r.resolved_by,
  timeToAcknowledgeSec: r.time_to_acknowledge_sec,
  timeToResolveSec: r.time_to_resolve_sec,
});

const presentEvent = (e: IncidentEventRow): IncidentEvent => ({
  id: e.id,
  kind: e.kind,
  actor: e.actor_name,
  detail: e.detail,
  at: e.at.toISOString(),
});

const secondsBetween = (from: Date, to: Date) =>
  Math.max(0, Math.round((to.getTime() - from.getTime()) / 1000));

/** A timeline entry, mirrored as a console notification for the department. */
export async function addEvent(
  tx: Executor,
  incident: IncidentRow,
  kind: IncidentEventKind,
  actor: Actor,
  detail: string,
  at: Date,
): Promise<IncidentEventRow> {
  const event = await repo.insertEvent(tx, {
    incident_id: incident.id,
    kind,
    actor_id: actor.id,
    actor_name: actor.name,
    detail,
    at,
  });
  await insertConsole(tx, {
    department_id: incident.department_id,
    incident_id: incident.id,
    event: `incident.${kind}`,
    severity: incident.severity,
    service_key: incident.service_key,
    message: `Incident #${incident.id} (${incident.severity} ${incident.service_key} ${incident.rule}) ${kind}${
      actor.id ? ` by ${actor.name}` : ''
    }${detail ? `: ${detail}` : ''}`,
    at,
  });
  return event;
}

/**
 * Opens the incident for a fired alert, joins the one already open for this service and rule, or
 * reopens the one it resolved less than REOPEN_WINDOW_SEC ago (the same trouble came back).
 * Call inside the transaction that records the alert.
 */
export async function openForAlert(
  tx: Executor,
  alert: AlertRow,
  severity: Severity,
): Promise<{ incident: IncidentRow; created: boolean }> {
  const existing = await repo.openIncidentOf(tx, alert.service_id, alert.rule);
  if (existing) return { incident: existing, created: false };
  const since = new Date(alert.started_at.getTime() - REOPEN_WINDOW_SEC * 1000);
  const recent = await repo.resolvedIncidentSince(tx, alert.service_id, alert.rule, since);
  if (recent) return { incident: await reopen(tx, recent, alert), created: false };
  const incident = await repo.insertIncident(tx, {
    service_id: alert.service_id,
    department_id: alert.department_id,
    service_key: alert.service_key,
    rule: alert.rule,
    alert_id: alert.id,
    severity,
    title: alert.message,
    state: 'open',
    opened_at: alert.started_at,
    acknowledged_at: null,
    acknowledged_by: null,
    assignee_id: null,
    assignee_name: null,
    resolved_at: null,
    resolved_by: null,
    time_to_acknowledge_sec: null,
    time_to_resolve_sec: null,
  });
  const event = await addEvent(tx, incident, 'opened', SYSTEM, alert.message, alert.started_at);
  await fanOut(tx, incident, 'incident.opened', event.id, alert.message);
  return { incident, created: true };
}

/** Opens a resolved incident again for a fired alert: its resolution is undone, its history kept. */
async function reopen(tx: Executor, incident: IncidentRow, alert: AlertRow): Promise<IncidentRow> {
  const after = incident.resolved_at ? secondsBetween(incident.resolved_at, alert.started_at) : 0;
  const updated = await repo.updateIncident(tx, incident.id, {
    state: 'open',
    alert_id: alert.id,
    resolved_at: null,
    resolved_by: null,
    time_to_resolve_sec: null,
  });
  const detail = `fired again ${after} s after it cleared: ${alert.message}`;
  const event = await addEvent(tx, updated, 'reopened', SYSTEM, detail, alert.started_at);
  await fanOut(tx, updated, 'incident.reopened', event.id, alert.message);
  return updated;
}

async function close(tx: Executor, incident: IncidentRow, actor: Actor, at: Date, detail: string) {
  const resolvedAt = at < incident.opened_at ? incident.opened_at : at;
  const updated = await repo.updateIncident(tx, incident.id, {
    state: 'resolved',
    resolved_at: resolvedAt,
    resolved_by: actor.name,
    time_to_resolve_sec: secondsBetween(incident.opened_at, resolvedAt),
  });
  const event = await addEvent(tx, updated, 'resolved', actor, detail, resolvedAt);
  await fanOut(tx, updated, 'incident.resolved', event.id, detail);
  return updated;
}

/** Resolves the open incident of a cleared alert (none when people already resolved it). */
export async function resolveForAlert(
  tx: Executor,
  serviceId: string,
  rule: string,
  at: Date,
  message: string,
): Promise<IncidentRow | null> {
  const open = await repo.openIncidentOf(tx, serviceId, rule);
  if (!open) return null;
  return close(tx, open, SYSTEM, at, `alert cleared: ${message}`);
}

// ---- for people, through the API ----

export interface IncidentDeps {
  db: Db;
}

const notFound = (id: number) => new DomainError('GOVHOST_INCIDENT_NOT_FOUND', `no incident ${id}`);

export async function listIncidents(
  deps: IncidentDeps,
  caller: Principal,
  filter: { state: 'open' | 'resolved' | 'all'; service?: string },
  page: Page,
): Promise<PageOf<Incident>> {
  authorize(caller, 'monitoring:read');
  const serviceId = filter.service ? (await serviceRef(deps.db, caller, filter.service)).id : undefined;
  const { items, total } = await repo.listIncidents(
    deps.db,
    departmentScope(caller),
    { state: filter.state, ...(serviceId ? { serviceId } : {}) },
    page,
  );
  return { items: items.map(presentIncident), total, ...page };
}

/** `DEPT/slug` to the service as the caller may see it, or 404. */
export async function serviceRef(db: Db, caller: Principal, ref: string) {
  const [dept, slug, extra] = ref.split('/');
  if (!dept || !slug || extra !== undefined) {
    throw new DomainError('GOVHOST_VALIDATION', `service must be DEPT/slug, got ${JSON.stringify(ref)}`);
  }
  return resolveService(db, caller, dept, slug);
}

export async function getIncident(
  deps: IncidentDeps,
  caller: Principal,
  id: number,
): Promise<Incident & { timeline: IncidentEvent[] }> {
  authorize(caller, 'monitoring:read');
  const row = await repo.findIncident(deps.db, departmentScope(caller), id);
  if (!row) throw notFound(id);
  const events = await repo.eventsOf(deps.db, id);
  return { ...presentIncident(row), timeline: events.map(presentEvent) };
}

/** Runs one human action on an incident, with its audit record, in one transaction. */
async function act(
  deps: IncidentDeps,
  caller: Caller,
  id: number,
  action: string,
  change: (tx: Executor, row: IncidentRow, actor: Actor, now: Date) => Promise<IncidentRow>,
): Promise<Incident> {
  authorize(caller, 'incident:write');
  return deps.db.transaction().execute(async (tx) => {
    const before = await repo.findIncident(tx, departmentScope(caller), id, true);
    if (!before) throw notFound(id);
    const after = await change(tx, before, { id: caller.userId, name: caller.username }, new Date());
    await recordChange(tx, auditContext(caller), {
      action: `incident.${action}`,
      targetType: 'incident',
      targetId: String(id),
      departmentId: before.department_id,
      before: presentIncident(before),
      after: presentIncident(after),
    });
    return presentIncident(after);
  });
}

const mustBeOpen = (row: IncidentRow, what: string) => {
  if (row.state !== 'open') {
    throw new DomainError('GOVHOST_INCIDENT_STATE', `incident ${row.id} is resolved: it cannot be ${what}`);
  }
};

export function acknowledge(deps: IncidentDeps, caller: Caller, id: number): Promise<Incident> {
  return act(deps, caller, id, 'acknowledge', async (tx, row, actor, now) => {
    mustBeOpen(row, 'acknowledged');
    if (row.acknowledged_at) {
      throw new DomainError(
        'GOVHOST_INCIDENT_STATE',
        `incident ${id} was acknowledged by ${row.acknowledged_by} at ${row.acknowledged_at.toISOString()}`,
      );
    }
    const updated = await repo.updateIncident(tx, id, {
      acknowledged_at: now,
      acknowledged_by: actor.name,
      time_to_acknowledge_sec: secondsBetween(row.opened_at, now),
    });
    await addEvent(tx, updated, 'acknowledged', actor, '', now);
    return updated;
  });
}

export async function assign(
  deps: IncidentDeps,
  caller: Caller,
  id: number,
  username: string,
): Promise<Incident> {
  authorize(caller, 'incident:write');
  const user = await getUser(deps.db, caller, username);
  return act(deps, caller, id, 'assign', async (tx, row, actor, now) => {
    mustBeOpen(row, 'assigned');
    // Whoever takes the incident must be able to see it: the central team, or the service's department.
    if (isDepartmentRole(user.role)) {
      if (!user.department || !row.service_key.startsWith(`${user.department}/`)) {
        throw new DomainError(
          'GOVHOST_VALIDATION',
          `${username} belongs to another department and cannot see this incident`,
        );
      }
    }
    if (user.disabled) throw new DomainError('GOVHOST_VALIDATION', `${username} is disabled`);
    const updated = await repo.updateIncident(tx, id, { assignee_id: user.id, assignee_name: user.username });
    await addEvent(tx, updated, 'assigned', actor, `to ${user.username}`, now);
    return updated;
  });
}

export function addNote(deps: IncidentDeps, caller: Caller, id: number, text: string): Promise<Incident> {
  return act(deps, caller, id, 'note', async (tx, row, actor, now) => {
    await addEvent(tx, row, 'note', actor, text, now);
    return row;
  });
}

export function resolveByHand(
  deps: IncidentDeps,
  caller: Caller,
  id: number,
  note?: string,
): Promise<Incident> {
  return act(deps, caller, id, 'resolve', async (tx, row, actor, now) => {
    mustBeOpen(row, 'resolved again');
    return close(tx, row, actor, now, note ?? '');
  });
}
