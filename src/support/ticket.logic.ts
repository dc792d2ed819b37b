/**
 * Support tickets between departments and the central team (issue 17): raise, comment (public or
 * internal), assign, move through the one status table, link to incidents and services, watch and
 * attach files. Every change writes its timeline entry and audit record in one transaction, and a
 * public change is told to the department's notification channels.
 */
import { createHash } from 'node:crypto';
import { recordChange } from '../audit/audit.logic.ts';
import { resolveService } from '../catalog/service.logic.ts';
import { getIncident } from '../monitoring/incident.logic.ts';
import { fanOutEvent, notifyPeople } from '../monitoring/notification.logic.ts';
import type { Config } from '../platform/config.ts';
import type { Db, Executor } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import type { Page, PageOf } from '../platform/pagination.ts';
import { resolveDepartment } from '../tenancy/department.logic.ts';
import {
  auditContext,
  authorize,
  type Caller,
  departmentScope,
  type Principal,
} from '../tenancy/principal.ts';
import { isDepartmentRole } from '../tenancy/roles.ts';
import { getUser, notificationAddresses } from '../tenancy/user.logic.ts';
import { sniffType } from './attachment-type.ts';
import { type Clock, calendarOf, clocksOf, targetsByKey } from './sla.logic.ts';
import * as repo from './ticket.repository.ts';
import type { Priority, TicketEventKind, TicketKind, TicketStatus } from './ticket.tables.ts';
import { DEPARTMENT_MOVES, TRANSITIONS } from './ticket-states.ts';

export interface TicketDeps {
  db: Db;
  config: Pick<Config, 'supportHours' | 'supportHolidays' | 'smtpUrl' | 'supportReopenDays'>;
}

/** Largest attachment, in bytes: a screenshot or a log, sent as base64 inside the JSON body. */
export const ATTACHMENT_LIMIT = 512 * 1024;

export interface TimelineEntry {
  kind: TicketEventKind;
  internal: boolean;
  by: string;
  from: TicketStatus | null;
  to: TicketStatus | null;
  body: string;
  at: string;
}

export interface Ticket {
  id: number;
  department: string;
  /** `DEPT/slug`, or null for the platform itself. */
  service: string | null;
  kind: TicketKind;
  priority: Priority;
  title: string;
  description: string;
  status: TicketStatus;
  /** The statuses the caller may move it to now. */
  nextStates: TicketStatus[];
  slaTier: string;
  raisedBy: string;
  raisedAt: string;
  watchers: string[];
  assignee: string | null;
  incidents: number[];
  firstResponseAt: string | null;
  resolvedAt: string | null;
  closedAt: string | null;
  sla: { response: Clock; resolution: Clock } | null;
  /** When the SLA job found each clock past its target (shown on the ticket). */
  responseBreachedAt: string | null;
  resolutionBreachedAt: string | null;
  updatedAt: string;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const isDesk = (caller: Principal) => !isDepartmentRole(caller.role);

/** Where the caller may move a ticket now: the one table, less the desk's moves for a department. */
export function movesFor(
  caller: Principal,
  row: Pick<repo.TicketRow, 'status' | 'resolved_at'>,
  reopenDays: number,
  now = new Date(),
) {
  return TRANSITIONS[row.status].filter((to) => {
    if (!isDesk(caller) && !DEPARTMENT_MOVES.has(`${row.status}>${to}`)) return false;
    if (row.status === 'resolved' && to === 'in-progress' && row.resolved_at)
      return now.getTime() - row.resolved_at.getTime() <= reopenDays * 86_400_000;
    return true;
  });
}

async function present(deps: TicketDeps, db: Executor, caller: Principal, rows: repo.TicketRow[]) {
  const now = new Date();
  const targets = await targetsByKey(db);
  const events = await repo.eventsOf(
    db,
    rows.map((r) => r.id),
    false,
  );
  const cal = calendarOf(deps.config);
  return rows.map(
    (r): Ticket => ({
      id: Number(r.id),
      department: r.department_code,
      service: r.service_slug ? `${r.department_code}/${r.service_slug}` : null,
      kind: r.kind,
      priority: r.priority,
      title: r.title,
      description: r.description,
      status: r.status,
      nextStates: movesFor(caller, r, deps.config.supportReopenDays, now),
      slaTier: r.sla_tier,
      raisedBy: r.raised_by_name,
      raisedAt: r.raised_at.toISOString(),
      watchers: r.watchers,
      assignee: r.assignee_name,
      incidents: r.incident_ids.map(Number),
      firstResponseAt: iso(r.first_response_at),
      resolvedAt: iso(r.resolved_at),
      closedAt: iso(r.closed_at),
      sla: clocksOf(
        r,
        events.filter((e) => Number(e.ticket_id) === Number(r.id)),
        targets.get(`${r.priority}/${r.sla_tier}`),
        cal,
        now,
      ),
      responseBreachedAt: iso(r.response_breached_at),
      resolutionBreachedAt: iso(r.resolution_breached_at),
      updatedAt: r.updated_at.toISOString(),
    }),
  );
}

const notFound = (id: number) => new DomainError('GOVHOST_TICKET_NOT_FOUND', `no ticket #${id}`);
const invalid = (field: string, message: string) =>
  new DomainError('GOVHOST_TICKET_INVALID', `${field} ${message}`, { errors: [{ field, message }] });

/** The ticket as the caller may see it, or 404 (also for another department's: it does not exist for them). */
export async function resolveTicket(db: Executor, caller: Principal, id: number, lock = false) {
  const row = await repo.find(db, departmentScope(caller), id, lock);
  if (!row) throw notFound(id);
  return row;
}

/** Usernames the ticket's department can be told about: people of that department or of the central team. */
async function checkWatchers(db: Db, caller: Principal, departmentCode: string, names: string[]) {
  const unique = [...new Set(names.map((n) => n.trim().toLowerCase()).filter((n) => n))];
  for (const name of unique) {
    let user: Awaited<ReturnType<typeof getUser>>;
    try {
      user = await getUser(db, caller, name);
    } catch (err) {
      if (err instanceof DomainError && err.code !== 'GOVHOST_FORBIDDEN')
        throw invalid('watchers', `has ${name}, who is not a user you can see`);
      throw err;
    }
    if (user.department && user.department !== departmentCode)
      throw invalid('watchers', `has ${name}, who belongs to another department`);
  }
  return unique;
}

interface Change {
  kind: TicketEventKind;
  internal?: boolean;
  from?: TicketStatus | null;
  to?: TicketStatus | null;
  body?: string;
  /** When it happened, if not now: an imported ticket's raise. */
  at?: Date;
}

/**
 * Writes a change's timeline entry and audit record and, when it is public, queues its
 * notification to the department's channels (and the platform-wide ones) naming who is told.
 */
async function record(
  deps: TicketDeps,
  trx: Executor,
  caller: Caller,
  row: repo.TicketRow,
  change: Change,
  after: unknown,
) {
  const internal = change.internal ?? false;
  await repo.insertEvent(trx, {
    ticket_id: row.id,
    kind: change.kind,
    internal,
    by_name: caller.username,
    from_status: change.from ?? null,
    to_status: change.to ?? null,
    body: change.body ?? '',
    at: change.at,
  });
  await recordChange(trx, auditContext(caller), {
    action: `ticket.${change.kind === 'raised' ? 'create' : change.kind}`,
    targetType: 'ticket',
    targetId: String(row.id),
    departmentId: row.department_id,
    after,
  });
  if (internal || change.kind === 'raised') return;
  await notifyPublic(trx, deps.config, row, 'ticket.updated', describe(caller.username, change), {
    status: change.to ?? row.status,
    actor: caller.username,
  });
}

const describe = (by: string, c: Change) =>
  c.kind === 'status'
    ? `${by} moved the ticket from ${c.from} to ${c.to}${c.body ? `: ${c.body}` : ''}`
    : `${by}: ${c.kind}${c.body ? ` ${c.body}` : ''}`;

/**
 * Tells of a public change or an SLA mark: the department's (and the platform's) channels, and the
 * ticket's raiser and watchers by e-mail, each at their own address, less the person who made the
 * change. Internal changes never come here.
 */
export async function notifyPublic(
  trx: Executor,
  config: Pick<Config, 'smtpUrl'>,
  row: repo.TicketRow,
  event: 'ticket.updated' | 'ticket.sla-warning' | 'ticket.sla-breach',
  message: string,
  opts: { status?: TicketStatus; actor?: string } = {},
) {
  const status = opts.status ?? row.status;
  const payload = {
    id: `ticket-${row.id}-${event}-${Date.now()}`,
    event,
    incidentId: null,
    service: row.service_slug ? `${row.department_code}/${row.service_slug}` : row.department_code,
    severity: row.priority,
    rule: null,
    state: null,
    message,
    openedAt: row.raised_at.toISOString(),
    resolvedAt: iso(row.resolved_at),
    timeToResolveSec: null,
    ticket: {
      id: Number(row.id),
      title: row.title,
      status,
      notify: [...new Set([row.raised_by_name, ...row.watchers])],
    },
  };
  await fanOutEvent(trx, row.department_id, row.priority, payload);
  const people = payload.ticket.notify.filter((name) => name !== opts.actor);
  const addresses = await notificationAddresses(trx, row.department_id, people);
  await notifyPeople(
    trx,
    config,
    addresses.map((a) => a.email),
    payload,
  );
}

export interface NewTicket {
  /** The department's code; a department user leaves it out (their own). */
  department?: string;
  /** The service's slug in the department, or `DEPT/slug`. */
  service?: string;
  kind: TicketKind;
  priority: Priority;
  title: string;
  description: string;
  watchers?: string[];
  /** The desk only: when a ticket moved from an older desk was first raised there. */
  raisedAt?: string;
}

/** How far back an imported ticket may have been raised: a year of an older desk's open tickets. */
export const IMPORT_MAX_DAYS = 366;

/**
 * The original raise time of a ticket the desk imports from an older desk, checked: the clocks
 * and the monthly report count from it, so it must be a real past time, not a way to skew them.
 */
function importedRaisedAt(caller: Principal, raisedAt: string | undefined, now: Date): Date | undefined {
  if (raisedAt === undefined) return undefined;
  authorize(caller, 'ticket:operate'); // only the central desk imports tickets
  const at = new Date(raisedAt);
  if (Number.isNaN(at.getTime())) throw invalid('raisedAt', 'is not a date-time');
  if (at.getTime() > now.getTime()) throw invalid('raisedAt', 'is in the future');
  if (now.getTime() - at.getTime() > IMPORT_MAX_DAYS * 86_400_000)
    throw invalid('raisedAt', `is more than ${IMPORT_MAX_DAYS} days ago`);
  return at;
}

export async function raiseTicket(deps: TicketDeps, caller: Caller, input: NewTicket): Promise<Ticket> {
  authorize(caller, 'ticket:write');
  const { db } = deps;
  let deptCode = input.department ?? (input.service?.includes('/') ? input.service.split('/')[0] : undefined);
  deptCode ??= caller.departmentCode ?? undefined;
  if (!deptCode) throw invalid('department', 'is required: which department is the ticket for?');
  const dept = await resolveDepartment(db, caller, deptCode);
  const service = input.service
    ? await resolveService(db, caller, dept.code, input.service.split('/').at(-1) ?? '')
    : null;
  const raisedAt = importedRaisedAt(caller, input.raisedAt, new Date());
  const watchers = await checkWatchers(db, caller, dept.code, input.watchers ?? []);
  return db.transaction().execute(async (trx) => {
    const id = await repo.insert(trx, {
      raised_at: raisedAt,
      department_id: dept.id,
      service_id: service?.id ?? null,
      kind: input.kind,
      priority: input.priority,
      title: input.title.trim(),
      description: input.description,
      // A ticket about the platform itself, or a service without a tier, runs on silver's clocks.
      sla_tier: service?.sla_tier ?? 'silver',
      raised_by_id: caller.userId,
      raised_by_name: caller.username,
      watchers,
      assignee_id: null,
      assignee_name: null,
      incident_ids: [],
      first_response_at: null,
      resolved_at: null,
      closed_at: null,
      response_warned_at: null,
      response_breached_at: null,
      resolution_warned_at: null,
      resolution_breached_at: null,
    });
    const row = (await repo.find(trx, null, id))!;
    await record(
      deps,
      trx,
      caller,
      row,
      {
        kind: 'raised',
        to: 'new',
        body: raisedAt ? `${row.title} (imported; first raised ${raisedAt.toISOString()})` : row.title,
        at: raisedAt,
      },
      input,
    );
    // The desk is told of every new ticket through the department's and the platform's channels.
    await notifyPublic(
      trx,
      deps.config,
      row,
      'ticket.updated',
      `${caller.username} ${raisedAt ? 'imported' : 'raised'} ticket #${id}: ${row.title}`,
      { actor: caller.username },
    );
    return (await present(deps, trx, caller, [row]))[0] as Ticket;
  });
}

export async function listTickets(
  deps: TicketDeps,
  caller: Principal,
  page: Page,
  filter: {
    department?: string;
    status?: TicketStatus;
    priority?: Priority;
    assignee?: string;
    open?: boolean;
  },
): Promise<PageOf<Ticket>> {
  authorize(caller, 'service:read');
  const departmentId = filter.department
    ? (await resolveDepartment(deps.db, caller, filter.department)).id
    : undefined;
  const { items, total } = await repo.list(deps.db, departmentScope(caller), page, {
    ...filter,
    departmentId,
  });
  return { items: await present(deps, deps.db, caller, items), total, ...page };
}

/** One ticket with its timeline (internal entries for the desk only) and its attachments. */
export async function getTicket(deps: TicketDeps, caller: Principal, id: number) {
  authorize(caller, 'service:read');
  const row = await resolveTicket(deps.db, caller, id);
  const events = await repo.eventsOf(deps.db, [row.id], isDesk(caller));
  const files = await repo.attachmentsOf(deps.db, row.id);
  return {
    ...((await present(deps, deps.db, caller, [row]))[0] as Ticket),
    timeline: events.map(
      (e): TimelineEntry => ({
        kind: e.kind,
        internal: e.internal,
        by: e.by_name,
        from: e.from_status,
        to: e.to_status,
        body: e.body,
        at: e.at.toISOString(),
      }),
    ),
    attachments: files.map((f) => ({
      id: f.id,
      filename: f.filename,
      mediaType: f.media_type,
      sizeBytes: f.size_bytes,
      sha256: f.sha256,
      by: f.by_name,
      at: f.at.toISOString(),
    })),
  };
}

/** Runs one change on a ticket the caller may see, locked, in a transaction; returns it after. */
async function change(
  deps: TicketDeps,
  caller: Caller,
  id: number,
  fn: (trx: Executor, row: repo.TicketRow) => Promise<void>,
): Promise<Ticket> {
  return deps.db.transaction().execute(async (trx) => {
    const row = await resolveTicket(trx, caller, id, true);
    await fn(trx, row);
    return (await present(deps, trx, caller, [await resolveTicket(trx, caller, id)]))[0] as Ticket;
  });
}

/** A comment: public (the department sees it) or internal (the desk only). */
export function comment(deps: TicketDeps, caller: Caller, id: number, body: string, internal = false) {
  authorize(caller, internal ? 'ticket:operate' : 'ticket:write');
  if (!body.trim()) throw invalid('body', 'is empty');
  return change(deps, caller, id, async (trx, row) => {
    if (row.status === 'closed') throw transition(row, 'commented on', []);
    // The desk's first public word is its first response; a department's answer while the ticket
    // waits on it hands the ticket back to the desk.
    if (!internal && isDesk(caller) && !row.first_response_at)
      await repo.update(trx, row.id, { first_response_at: new Date() });
    await record(deps, trx, caller, row, { kind: 'comment', internal, body }, { internal, body });
    if (!isDesk(caller) && row.status === 'waiting-on-department') {
      await repo.update(trx, row.id, { status: 'in-progress' });
      await record(
        deps,
        trx,
        caller,
        row,
        { kind: 'status', from: row.status, to: 'in-progress', body: 'answered' },
        {
          status: 'in-progress',
        },
      );
    }
  });
}

const transition = (row: repo.TicketRow, what: string, allowed: TicketStatus[]) =>
  new DomainError(
    'GOVHOST_TICKET_TRANSITION',
    `ticket #${row.id} is ${row.status}; it cannot be ${what} (allowed: ${allowed.join(', ') || 'none'})`,
    { current: row.status, allowed },
  );

/** Moves a ticket to `to` if the one table (and the caller's side) allows it; else 409 naming what is allowed. */
export function moveTicket(deps: TicketDeps, caller: Caller, id: number, to: TicketStatus, note?: string) {
  authorize(caller, 'ticket:write');
  return change(deps, caller, id, async (trx, row) => {
    const allowed = movesFor(caller, row, deps.config.supportReopenDays);
    if (!allowed.includes(to)) {
      const reopenLate =
        row.status === 'resolved' && to === 'in-progress' && TRANSITIONS.resolved.includes(to);
      throw transition(
        row,
        `moved to ${to}${reopenLate && isDesk(caller) ? ` (reopening is allowed for ${deps.config.supportReopenDays} days after resolution)` : ''}`,
        allowed,
      );
    }
    const now = new Date();
    await repo.update(trx, row.id, {
      status: to,
      ...(isDesk(caller) && !row.first_response_at ? { first_response_at: now } : {}),
      ...(to === 'resolved' ? { resolved_at: now } : {}),
      // Reopened: the resolution clock runs again (the time it stood resolved does not count).
      ...(row.status === 'resolved' && to === 'in-progress' ? { resolved_at: null } : {}),
      ...(to === 'closed' ? { closed_at: now } : {}),
    });
    await record(
      deps,
      trx,
      caller,
      row,
      { kind: 'status', from: row.status, to, body: note?.trim() ?? '' },
      {
        status: to,
        note: note ?? null,
      },
    );
  });
}

/** Gives the ticket to an operator (or a platform admin) of the central team. */
export async function assignTicket(deps: TicketDeps, caller: Caller, id: number, username: string) {
  authorize(caller, 'ticket:operate');
  const user = await getUser(deps.db, caller, username);
  if (user.role !== 'operator' && user.role !== 'platform-admin')
    throw invalid('assignee', `${username} is ${user.role}: tickets go to operators`);
  if (user.disabled) throw invalid('assignee', `${username} is disabled`);
  return change(deps, caller, id, async (trx, row) => {
    await repo.update(trx, row.id, { assignee_id: user.id, assignee_name: user.username });
    await record(
      deps,
      trx,
      caller,
      row,
      { kind: 'assigned', body: `to ${user.username}` },
      { assignee: user.username },
    );
  });
}

/** Links the ticket to a monitoring incident of its department, or sets the service it is about. */
export async function linkTicket(
  deps: TicketDeps,
  caller: Caller,
  id: number,
  link: { incident?: number; service?: string },
) {
  authorize(caller, 'ticket:operate');
  if (link.incident === undefined && link.service === undefined)
    throw invalid('incident', 'or service is required');
  // Read before the transaction: PGlite has one connection, which the transaction holds.
  const ticket = await resolveTicket(deps.db, caller, id);
  const incident =
    link.incident === undefined ? null : await getIncident({ db: deps.db }, caller, link.incident);
  if (incident && !incident.service.startsWith(`${ticket.department_code}/`))
    throw invalid('incident', `${link.incident} is another department's (${incident.service})`);
  const svc =
    link.service === undefined
      ? null
      : await resolveService(deps.db, caller, ticket.department_code, link.service.split('/').at(-1) ?? '');
  return change(deps, caller, id, async (trx, row) => {
    if (incident) {
      const ids = [...new Set([...row.incident_ids.map(Number), incident.id])];
      await repo.update(trx, row.id, { incident_ids: ids });
      await record(
        deps,
        trx,
        caller,
        row,
        { kind: 'linked', body: `incident ${incident.id}` },
        { incidents: ids },
      );
    }
    if (svc) {
      await repo.update(trx, row.id, { service_id: svc.id });
      await record(
        deps,
        trx,
        caller,
        row,
        { kind: 'linked', body: `service ${row.department_code}/${svc.slug}` },
        { service: svc.slug },
      );
    }
  });
}

/** Replaces the watchers: people told of the ticket's public changes beside its raiser. */
export async function setWatchers(deps: TicketDeps, caller: Caller, id: number, names: string[]) {
  authorize(caller, 'ticket:write');
  const row = await resolveTicket(deps.db, caller, id);
  const watchers = await checkWatchers(deps.db, caller, row.department_code, names);
  return change(deps, caller, id, async (trx, locked) => {
    await repo.update(trx, locked.id, { watchers });
    await record(deps, trx, caller, locked, { kind: 'watchers', body: watchers.join(', ') }, { watchers });
  });
}

/** Adds a file, checked by content against the allow-list and bounded in size. */
export async function attach(
  deps: TicketDeps,
  caller: Caller,
  id: number,
  file: { filename: string; contentBase64: string },
) {
  authorize(caller, 'ticket:write');
  const data = Buffer.from(file.contentBase64, 'base64');
  if (data.length === 0) throw invalid('contentBase64', 'is empty or not base64');
  if (data.length > ATTACHMENT_LIMIT)
    throw new DomainError(
      'GOVHOST_ATTACHMENT_TOO_LARGE',
      `${file.filename} is ${data.length} bytes; attachments may be up to ${ATTACHMENT_LIMIT}`,
    );
  const mediaType = sniffType(data);
  if (!mediaType)
    throw new DomainError('GOVHOST_ATTACHMENT_TYPE', `${file.filename} is not PNG, JPEG, PDF or plain text`);
  const sha256 = createHash('sha256').update(data).digest('hex');
  return change(deps, caller, id, async (trx, row) => {
    if (row.status === 'closed') throw transition(row, 'given attachments', []);
    await repo.insertAttachment(trx, {
      ticket_id: row.id,
      filename: file.filename,
      media_type: mediaType,
      size_bytes: data.length,
      sha256,
      data,
      by_name: caller.username,
    });
    await record(
      deps,
      trx,
      caller,
      row,
      { kind: 'attachment', body: `${file.filename} (${mediaType}, ${data.length} bytes)` },
      {
        filename: file.filename,
        mediaType,
        sha256,
      },
    );
  });
}

/** An attachment's bytes, of a ticket the caller may see (else 404). */
export async function readAttachment(deps: TicketDeps, caller: Principal, id: number, attachmentId: string) {
  authorize(caller, 'service:read');
  const row = await resolveTicket(deps.db, caller, id);
  const file = /^[0-9a-f-]{36}$/.test(attachmentId)
    ? await repo.attachment(deps.db, row.id, attachmentId)
    : undefined;
  if (!file)
    throw new DomainError('GOVHOST_ATTACHMENT_NOT_FOUND', `ticket #${id} has no attachment ${attachmentId}`);
  return { filename: file.filename, mediaType: file.media_type, data: Buffer.from(file.data) };
}
