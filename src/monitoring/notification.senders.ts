/**
 * How a notification leaves the platform: a signed webhook POST, or a plain-text e-mail over SMTP.
 * Each sender throws when the delivery did not happen (non-2xx, timeout, SMTP refusal); the
 * dispatcher retries it.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Severity } from './alert-rules.ts';
import { type Target, type WebhookPolicy, WebhookTargetError } from './webhook-target.ts';

/** What every channel is told about an incident; webhooks receive exactly this JSON. */
export interface NotificationPayload {
  /** Stable across retries and channels: a receiver drops a second delivery with the same id. */
  id: string;
  /** `incident.reopened`: it fired again soon after it was resolved (same incidentId). */
  event:
    | 'incident.opened'
    | 'incident.reopened'
    | 'incident.resolved'
    | 'test'
    | TicketEventName
    | BudgetEventName;
  incidentId: number | null;
  /** `DEPT/slug`. */
  service: string;
  severity: Severity | null;
  rule: string | null;
  state: 'open' | 'resolved' | null;
  message: string;
  openedAt: string | null;
  resolvedAt: string | null;
  timeToResolveSec: number | null;
  /** A support ticket's event (the support capability's): its number, link text and who is told. */
  ticket?: { id: number; title: string; status: string; notify: string[] };
}

/** Finance: a department's spend crossed a threshold of its budget (`service` is the department). */
export type BudgetEventName = 'finance.budget-alert';

/** Support desk events: a public change of a ticket, or an SLA clock near or past its target. */
export type TicketEventName = 'ticket.updated' | 'ticket.sla-warning' | 'ticket.sla-breach';

export const SIGNATURE_HEADER = 'x-govhost-signature';
export const TIMESTAMP_HEADER = 'x-govhost-timestamp';

/** A new webhook secret: 32 random bytes, shown to its owner once. */
export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;

/** `v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`: the timestamp is signed so a replay can be told. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * What a receiver does with a GovHost webhook, in full:
 * 1. read the raw body (before any JSON parsing) and the two headers;
 * 2. refuse a timestamp more than `toleranceSec` away from its own clock (a replay);
 * 3. compute `v1=` + hex HMAC-SHA256 with the channel's secret over `timestamp + "." + body`
 *    and compare it to X-GovHost-Signature in constant time;
 * 4. drop a payload whose `id` it has already handled (a retry after a lost answer).
 */
export function verifyWebhook(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  rawBody: string,
  opts: { toleranceSec?: number; nowSec?: number } = {},
): boolean {
  const { timestamp, signature } = headers;
  if (!timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) return false;
  const now = opts.nowSec ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(timestamp)) > (opts.toleranceSec ?? 300)) return false;
  const expected = Buffer.from(signWebhook(secret, Number(timestamp), rawBody));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export class DeliveryError extends Error {
  override name = 'DeliveryError';
  constructor(
    message: string,
    /** The receiver's HTTP status when it answered with a non-2xx one; null when it did not answer. */
    readonly status: number | null = null,
  ) {
    super(message);
  }
}

/**
 * POSTs the body, signed, to a target `policy` allows; resolves on a 2xx answer within
 * `timeoutMs`. The connection goes to the address the policy checked (never to a second look-up
 * of the name), on a socket of its own; Host and TLS still use the URL's name. Redirects are not
 * followed: a 3xx is a failed delivery, so a receiver cannot bounce the POST somewhere else.
 */
export async function postWebhook(
  url: string,
  secret: string,
  body: string,
  timeoutMs: number,
  /** Where to connect: a policy's checked address, or another capability's own (e.g. the router). */
  policy: Pick<WebhookPolicy, 'target'> & {
    /**
     * A connection the caller makes itself (e.g. TLS to its router, checked its own way), for this
     * delivery alone: the request is written on it only once it resolves, as plain HTTP/1.1 on top.
     */
    connect?: (target: Target) => Promise<Duplex>;
  },
): Promise<number> {
  const u = new URL(url);
  let target: Awaited<ReturnType<WebhookPolicy['target']>>;
  try {
    target = await policy.target(u);
  } catch (err) {
    if (err instanceof WebhookTargetError) throw new DeliveryError(`refused: ${err.message}`);
    throw err;
  }
  const timestamp = Math.floor(Date.now() / 1000);
  const pinned: LookupFunction = (_name, opts, done) => {
    if (opts.all) done(null, [{ address: target.address, family: target.family }]);
    else done(null, target.address, target.family);
  };
  const connect = policy.connect;
  return new Promise<number>((resolve, reject) => {
    const req = (u.protocol === 'https:' && !connect ? https : http).request(
      {
        method: 'POST',
        hostname: target.hostname,
        port: target.port ?? (u.port || undefined),
        path: `${u.pathname}${u.search}`,
        lookup: pinned,
        ...(connect
          ? {
              // No agent: an agent would make its own connection, ignoring createConnection.
              createConnection: (_o, done) => {
                connect(target).then(
                  (socket) => done(null, socket),
                  // On an error Node ignores the socket argument and fails the request with it.
                  (err: Error) => done(err, undefined as unknown as Duplex),
                );
                return undefined;
              },
            }
          : { agent: false }),
        headers: {
          host: u.host,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'GovHost-Webhook/1',
          'X-GovHost-Timestamp': String(timestamp),
          'X-GovHost-Signature': signWebhook(secret, timestamp, body),
        },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        // The answer's body is not ours to read; the socket is this delivery's alone.
        res.destroy();
        clearTimeout(timer);
        if (status < 200 || status > 299) reject(new DeliveryError(`HTTP ${status}`, status));
        else resolve(status);
      },
    );
    const timer = setTimeout(
      () => req.destroy(new DeliveryError(`no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(err instanceof DeliveryError ? err : new DeliveryError(err.code ?? err.message));
    });
    req.end(body);
  });
}

/** Subject and plain-text body of an e-mail about an incident. */
export function renderEmail(p: NotificationPayload): { subject: string; text: string } {
  if (p.event === 'test') {
    return {
      subject: '[GovHost] test notification',
      text: `${p.message}\n\nThis channel is set up correctly.\n`,
    };
  }
  if (p.event === 'finance.budget-alert') {
    return {
      subject: `[GovHost] budget of ${p.service}: ${p.message}`,
      text: `${p.message}\n\nNotification id: ${p.id}\n`,
    };
  }
  if (p.ticket) {
    const t = p.ticket;
    return {
      subject: `[GovHost ${p.severity}] ticket #${t.id} ${p.event === 'ticket.updated' ? t.status : 'SLA'}: ${t.title}`,
      text: `${[
        `Ticket #${t.id}: ${t.title}`,
        `Status:    ${t.status}`,
        `Service:   ${p.service}`,
        `For:       ${t.notify.join(', ')}`,
        '',
        p.message,
        '',
        `Notification id: ${p.id}`,
      ].join('\n')}\n`,
    };
  }
  const state =
    p.event === 'incident.opened' ? 'OPEN' : p.event === 'incident.reopened' ? 'REOPENED' : 'RESOLVED';
  const lines = [
    `Incident #${p.incidentId} ${state}`,
    '',
    `Service:   ${p.service}`,
    `Severity:  ${p.severity}`,
    `Rule:      ${p.rule}`,
    `Opened:    ${p.openedAt}`,
    ...(p.resolvedAt ? [`Resolved:  ${p.resolvedAt}`] : []),
    ...(p.timeToResolveSec !== null ? [`Duration:  ${p.timeToResolveSec} s`] : []),
    '',
    p.message,
    '',
    `Notification id: ${p.id}`,
  ];
  return {
    subject: `[GovHost ${p.severity}] ${p.service} ${state}: ${p.rule}`,
    text: `${lines.join('\n')}\n`,
  };
}

/** Sends one plain-text e-mail through the platform's SMTP server. */
export async function sendEmail(
  smtp: { url: string; from: string },
  to: string[],
  payload: NotificationPayload,
  timeoutMs: number,
): Promise<void> {
  // Loaded on the first e-mail: most control planes never send one, and nodemailer's 40-odd
  // modules would otherwise sit in every idle server's memory.
  const { default: nodemailer } = await import('nodemailer');
  const transport = nodemailer.createTransport({
    url: smtp.url,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  const { subject, text } = renderEmail(payload);
  try {
    await transport.sendMail({ from: smtp.from, to, subject, text });
  } catch (err) {
    throw new DeliveryError(`SMTP: ${(err as Error).message}`);
  } finally {
    transport.close();
  }
}
