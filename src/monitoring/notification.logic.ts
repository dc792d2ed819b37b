/**
 * Notification channels (signed webhooks, e-mail) per department or platform-wide, the fan-out of
 * an incident's opening and resolution into the outbox, and the console's notification list.
 */
import { randomUUID } from 'node:crypto';
import { recordChange } from '../audit/audit.logic.ts';
import type { Config } from '../platform/config.ts';
import type { Db, Executor } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import type { Page, PageOf } from '../platform/pagination.ts';
import type { SecretBox } from '../platform/secrets.ts';
import { departmentCodes, resolveDepartment } from '../tenancy/department.logic.ts';
import {
  auditContext,
  authorize,
  type Caller,
  departmentScope,
  type Principal,
} from '../tenancy/principal.ts';
import { SEVERITIES, type Severity } from './alert-rules.ts';
import type { IncidentRow } from './incident.repository.ts';
import * as repo from './notification.repository.ts';
import { type ChannelRow, channelsFor, enqueue } from './notification.repository.ts';
import {
  type NotificationPayload,
  newWebhookSecret,
  postWebhook,
  sendEmail,
} from './notification.senders.ts';
import { type Resolve, WebhookPolicy, WebhookTargetError } from './webhook-target.ts';

export interface NotificationDeps {
  db: Db;
  box: SecretBox;
  config: Pick<Config, 'smtpUrl' | 'mailFrom' | 'webhookAllow'>;
  /** How host names are resolved for webhooks (default: the system's resolver). */
  resolve?: Resolve;
}

const policyOf = (deps: Pick<NotificationDeps, 'config' | 'resolve'>) =>
  new WebhookPolicy(deps.config.webhookAllow, deps.resolve);

export interface ChannelView {
  id: string;
  /** Null: platform-wide, told of every department's incidents. */
  department: string | null;
  kind: 'webhook' | 'email';
  url: string | null;
  addresses: string[] | null;
  minSeverity: Severity | null;
  createdBy: string;
  createdAt: string;
}

const present = (r: ChannelRow, codes: Map<string, string>): ChannelView => ({
  id: r.id,
  department: r.department_id ? (codes.get(r.department_id) ?? null) : null,
  kind: r.kind,
  url: r.url,
  addresses: r.addresses,
  minSeverity: r.min_severity as Severity | null,
  createdBy: r.created_by,
  createdAt: r.created_at.toISOString(),
});

/** Does a channel with this minimum severity want an incident of `severity`? (P1 is the most severe.) */
export const wants = (minSeverity: string | null, severity: string): boolean =>
  minSeverity === null ||
  SEVERITIES.indexOf(severity as Severity) <= SEVERITIES.indexOf(minSeverity as Severity);

export type IncidentEventName = 'incident.opened' | 'incident.reopened' | 'incident.resolved';

export function payloadOf(
  incident: IncidentRow,
  event: IncidentEventName,
  eventId: number,
  message: string,
): NotificationPayload {
  return {
    id: `incident-event-${eventId}`,
    event,
    incidentId: incident.id,
    service: incident.service_key,
    severity: incident.severity as Severity,
    rule: incident.rule,
    state: incident.state,
    message: message || incident.title,
    openedAt: incident.opened_at.toISOString(),
    resolvedAt: incident.resolved_at?.toISOString() ?? null,
    timeToResolveSec: incident.time_to_resolve_sec,
  };
}

/** Queues the event for every channel that wants it; call in the transaction that changes the incident. */
export async function fanOut(
  tx: Executor,
  incident: IncidentRow,
  event: IncidentEventName,
  eventId: number,
  message: string,
): Promise<number> {
  const channels = (await channelsFor(tx, incident.department_id)).filter((c) =>
    wants(c.min_severity, incident.severity),
  );
  const body = JSON.stringify(payloadOf(incident, event, eventId, message));
  await enqueue(
    tx,
    channels.map((c) => ({ channel_id: c.id, incident_id: incident.id, event, body })),
  );
  return channels.length;
}

/**
 * Queues another capability's event (a support ticket's) for every channel of the department, and
 * the platform-wide ones, that wants its severity; call in the transaction that makes the change.
 */
export async function fanOutEvent(
  tx: Executor,
  departmentId: string,
  severity: Severity,
  payload: NotificationPayload,
): Promise<number> {
  const channels = (await channelsFor(tx, departmentId)).filter((c) => wants(c.min_severity, severity));
  const body = JSON.stringify(payload);
  await enqueue(
    tx,
    channels.map((c) => ({ channel_id: c.id, incident_id: null, event: payload.event, body })),
  );
  return channels.length;
}

/**
 * Queues another capability's event for people by e-mail (a ticket's raiser and watchers), one row
 * for all of them, with the outbox's retries; nothing when no SMTP server is configured or nobody
 * has an address. Call in the transaction that makes the change.
 */
export async function notifyPeople(
  tx: Executor,
  config: Pick<Config, 'smtpUrl'>,
  addresses: string[],
  payload: NotificationPayload,
): Promise<number> {
  const to = [...new Set(addresses)].sort();
  if (!config.smtpUrl || to.length === 0) return 0;
  await enqueue(tx, [
    {
      channel_id: null,
      addresses: to,
      incident_id: null,
      event: payload.event,
      body: JSON.stringify(payload),
    },
  ]);
  return to.length;
}

/**
 * Queues another capability's delivery for its own sender (see `OutboxSender`), with the outbox's
 * retries and backoff; call in the transaction that makes the change, so that the change and its
 * delivery commit or vanish together. `body` is sent byte for byte on every attempt.
 */
export async function queueForSender(
  tx: Executor,
  row: { sender: string; target: string; event: string; body: string },
): Promise<void> {
  await enqueue(tx, [{ ...row, channel_id: null, incident_id: null }]);
}

export interface NewChannel {
  kind: 'webhook' | 'email';
  /** For a webhook. */
  url?: string;
  /** For e-mail. */
  addresses?: string[];
  minSeverity?: Severity;
  /** A department code; null for platform-wide; absent for the caller's own (platform-wide for the central team). */
  department?: string | null;
}

/** A webhook URL as stored, after checking it may be reached (a 400 saying why not). */
async function checkUrl(deps: Pick<NotificationDeps, 'config' | 'resolve'>, raw: string): Promise<string> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DomainError('GOVHOST_VALIDATION', `${JSON.stringify(raw)} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new DomainError('GOVHOST_VALIDATION', 'a webhook URL must start with https:// or http://');
  }
  if (url.username || url.password) {
    throw new DomainError(
      'GOVHOST_VALIDATION',
      'put no credentials in the webhook URL: the signature authenticates',
    );
  }
  try {
    await policyOf(deps).check(url);
  } catch (err) {
    if (!(err instanceof WebhookTargetError)) throw err;
    const code =
      err.reason === 'forbidden' ? 'GOVHOST_WEBHOOK_TARGET_FORBIDDEN' : 'GOVHOST_WEBHOOK_TARGET_UNRESOLVED';
    throw new DomainError(code, err.message);
  }
  return url.toString();
}

/**
 * Adds a channel. A department admin adds channels for its own department; the central team adds
 * them for a department or, with no department, platform-wide. A webhook's secret is in the answer
 * this once and stored sealed.
 */
export async function createChannel(
  deps: NotificationDeps,
  caller: Caller,
  input: NewChannel,
): Promise<{ channel: ChannelView; secret: string | null }> {
  authorize(caller, 'alerting:write');
  const scope = departmentScope(caller);
  const code =
    input.department === undefined ? (scope === null ? null : caller.departmentCode) : input.department;
  if (code === null && scope !== null) {
    throw new DomainError('GOVHOST_FORBIDDEN', 'only the central team may add platform-wide channels');
  }
  if (input.kind === 'webhook' && (!input.url || input.addresses)) {
    throw new DomainError('GOVHOST_VALIDATION', 'a webhook channel takes a url and no addresses');
  }
  if (input.kind === 'email' && (!input.addresses || input.url)) {
    throw new DomainError('GOVHOST_VALIDATION', 'an email channel takes addresses and no url');
  }
  if (input.kind === 'email' && !deps.config.smtpUrl) {
    throw new DomainError(
      'GOVHOST_EMAIL_NOT_CONFIGURED',
      'this platform has no SMTP server: set GOVHOST_SMTP_URL',
    );
  }
  // Checked before the transaction: a look-up may take seconds and must not hold the store.
  const url = input.url ? await checkUrl(deps, input.url) : null;
  const secret = input.kind === 'webhook' ? newWebhookSecret() : null;
  return deps.db.transaction().execute(async (tx) => {
    const dept = code === null ? null : await resolveDepartment(tx, caller, code);
    const row = await repo.insertChannel(tx, {
      department_id: dept?.id ?? null,
      kind: input.kind,
      url,
      addresses: input.addresses ? [...new Set(input.addresses.map((a) => a.trim().toLowerCase()))] : null,
      secret_sealed: secret ? deps.box.seal(secret) : null,
      min_severity: input.minSeverity ?? null,
      created_by: caller.username,
    });
    const channel = present(row, new Map(dept ? [[dept.id, dept.code]] : []));
    await recordChange(tx, auditContext(caller), {
      action: 'notification-channel.create',
      targetType: 'notification-channel',
      targetId: row.id,
      departmentId: row.department_id,
      after: channel,
    });
    return { channel, secret };
  });
}

export async function listChannels(deps: NotificationDeps, caller: Principal): Promise<ChannelView[]> {
  authorize(caller, 'monitoring:read');
  const rows = await repo.listChannels(deps.db, departmentScope(caller));
  const codes = await departmentCodes(
    deps.db,
    rows.map((r) => r.department_id),
  );
  return rows.map((r) => present(r, codes));
}

const channelNotFound = (id: string) =>
  new DomainError('GOVHOST_CHANNEL_NOT_FOUND', `no notification channel ${id}`);

export async function deleteChannel(deps: NotificationDeps, caller: Caller, id: string): Promise<void> {
  authorize(caller, 'alerting:write');
  await deps.db.transaction().execute(async (tx) => {
    const row = await repo.findChannel(tx, departmentScope(caller), id);
    if (!row) throw channelNotFound(id);
    const codes = await departmentCodes(tx, [row.department_id]);
    await repo.deleteChannel(tx, id);
    await recordChange(tx, auditContext(caller), {
      action: 'notification-channel.delete',
      targetType: 'notification-channel',
      targetId: id,
      departmentId: row.department_id,
      before: present(row, codes),
    });
  });
}

/** Sends one row addressed to people (not a channel) by e-mail now (no retry): the dispatcher uses it. */
export async function deliverToPeople(
  deps: Pick<NotificationDeps, 'config'>,
  addresses: string[],
  body: string,
  timeoutMs: number,
): Promise<string> {
  if (!deps.config.smtpUrl) throw new Error('no SMTP server configured (GOVHOST_SMTP_URL)');
  await sendEmail(
    { url: deps.config.smtpUrl, from: deps.config.mailFrom },
    addresses,
    JSON.parse(body),
    timeoutMs,
  );
  return `e-mail to ${addresses.join(', ')}`;
}

/** Sends one notification on one channel now (no retry): the dispatcher and the test use it. */
export async function deliver(
  deps: Pick<NotificationDeps, 'box' | 'config' | 'resolve'>,
  channel: ChannelRow,
  body: string,
  timeoutMs: number,
): Promise<string> {
  if (channel.kind === 'webhook') {
    if (!channel.url || !channel.secret_sealed) throw new Error('webhook channel without URL or secret');
    const secret = deps.box.open(channel.secret_sealed);
    const status = await postWebhook(channel.url, secret, body, timeoutMs, policyOf(deps));
    return `webhook ${channel.url} answered ${status}`;
  }
  if (!deps.config.smtpUrl) throw new Error('no SMTP server configured (GOVHOST_SMTP_URL)');
  const to = channel.addresses ?? [];
  await sendEmail({ url: deps.config.smtpUrl, from: deps.config.mailFrom }, to, JSON.parse(body), timeoutMs);
  return `e-mail to ${to.join(', ')}`;
}

/** Sends a test notification at once and says whether it arrived. */
export async function testChannel(
  deps: NotificationDeps,
  caller: Caller,
  id: string,
): Promise<{ delivered: true; detail: string }> {
  authorize(caller, 'alerting:write');
  const row = await repo.findChannel(deps.db, departmentScope(caller), id);
  if (!row) throw channelNotFound(id);
  const payload: NotificationPayload = {
    id: `test-${randomUUID()}`,
    event: 'test',
    incidentId: null,
    service: '',
    severity: null,
    rule: null,
    state: null,
    message: `Test notification from GovHost, sent by ${caller.username}`,
    openedAt: null,
    resolvedAt: null,
    timeToResolveSec: null,
  };
  try {
    return { delivered: true, detail: await deliver(deps, row, JSON.stringify(payload), 10_000) };
  } catch (err) {
    throw new DomainError(
      'GOVHOST_NOTIFICATION_FAILED',
      `the test notification failed: ${(err as Error).message}`,
    );
  }
}

export interface ConsoleNotification {
  id: number;
  incidentId: number;
  event: string;
  severity: string;
  service: string;
  message: string;
  at: string;
}

export async function listConsoleNotifications(
  deps: Pick<NotificationDeps, 'db'>,
  caller: Principal,
  page: Page,
): Promise<PageOf<ConsoleNotification>> {
  authorize(caller, 'monitoring:read');
  const { items, total } = await repo.listConsole(deps.db, departmentScope(caller), page);
  return {
    items: items.map((r) => ({
      id: r.id,
      incidentId: r.incident_id,
      event: r.event,
      severity: r.severity,
      service: r.service_key,
      message: r.message,
      at: r.at.toISOString(),
    })),
    total,
    ...page,
  };
}

/**
 * Drops console notifications and finished outbox rows older than the retention. Nothing of the
 * record is lost: each incident's timeline (opened, notified, resolved, …) is kept for good; these
 * rows are the console's feed and the delivery queue, which would otherwise grow forever.
 */
export async function pruneNotifications(
  db: Db,
  retentionDays: number,
  now = Date.now(),
): Promise<{ console: number; outbox: number; before: Date }> {
  const before = new Date(now - retentionDays * 86_400_000);
  return {
    console: await repo.deleteConsoleBefore(db, before),
    outbox: await repo.deleteFinishedOutboxBefore(db, before),
    before,
  };
}
