/**
 * Sends what the outbox holds. Rows are written in the transaction that changes the incident, so
 * nothing is lost if the process dies; the dispatcher claims due rows with a lease (one sender per
 * row at a time), sends, and records the outcome. A failed attempt is retried with growing delays;
 * after a day it is marked failed and logged. A row marked delivered is never claimed again.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../platform/config.ts';
import type { Db } from '../platform/database.ts';
import type { SecretBox } from '../platform/secrets.ts';
import { addEvent, SYSTEM } from './incident.logic.ts';
import { findIncident } from './incident.repository.ts';
import { deliver, deliverToPeople } from './notification.logic.ts';
import * as repo from './notification.repository.ts';
import type { Resolve } from './webhook-target.ts';

/** Delay before attempt n+1 after n failures; the last one repeats. */
export const RETRY_DELAYS_MS = [
  5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000, 28_800_000,
];
/** A notification not delivered within a day of its incident change is given up (and logged). */
export const GIVE_UP_AFTER_MS = 24 * 3_600_000;

export type Log = Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>;

/**
 * Another capability's way of delivering its own rows (`sender` names it in the outbox): it
 * throws when the delivery did not happen, and the row is retried like any other. It is handed in
 * by the composition root, so monitoring imports no capability above it.
 */
export type OutboxSender = (
  row: { target: string; event: string; body: string },
  timeoutMs: number,
) => Promise<string>;

export interface DispatcherOptions {
  db: Db;
  box: SecretBox;
  config: Pick<Config, 'smtpUrl' | 'mailFrom' | 'webhookAllow'>;
  log: Log;
  /** How webhook host names are resolved (default: the system's resolver). */
  resolve?: Resolve;
  /** How often to look for due rows when nobody kicks (default 1 s). */
  pollMs?: number;
  /** How long one delivery may take (default 10 s). */
  timeoutMs?: number;
  /** How long a claim holds: longer than a delivery, so a live sender never loses it (default 60 s). */
  leaseMs?: number;
  retryDelaysMs?: number[];
  giveUpAfterMs?: number;
  /** Rows sent in parallel per pass. */
  batch?: number;
  /** Other capabilities' senders, by the name their rows carry. */
  senders?: Readonly<Record<string, OutboxSender>>;
}

export class NotificationDispatcher {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  private readonly pollMs: number;
  private readonly timeoutMs: number;
  private readonly leaseMs: number;
  private readonly delays: number[];
  private readonly giveUpAfterMs: number;
  private readonly batch: number;

  constructor(private readonly opts: DispatcherOptions) {
    this.pollMs = opts.pollMs ?? 1000;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.delays = opts.retryDelaysMs ?? RETRY_DELAYS_MS;
    this.giveUpAfterMs = opts.giveUpAfterMs ?? GIVE_UP_AFTER_MS;
    this.batch = opts.batch ?? 10;
  }

  /** Starts sending; rows left pending by an earlier process go out on the first pass. */
  start(): void {
    this.stopped = false;
    this.kick();
  }

  /** Looks for due rows now (called after an incident change commits). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running = this.pass()
      .catch((err) => this.opts.log.error({ err }, 'notification dispatcher pass failed'))
      .finally(() => {
        this.running = null;
        if (this.stopped) return;
        if (this.again) {
          this.again = false;
          this.kick();
        } else {
          this.timer = setTimeout(() => this.kick(), this.pollMs);
          this.timer.unref();
        }
      });
  }

  /** Stops after the deliveries under way; their rows are recorded before this resolves. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private async pass(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const rows = await repo.claimDue(this.opts.db, new Date(), this.leaseMs, this.batch);
      if (rows.length === 0) return;
      await Promise.all(rows.map((row) => this.send(row)));
      if (rows.length < this.batch) return;
    }
  }

  /** A row of another capability, through its sender (a process without it fails the attempt). */
  private sendOwn(row: repo.OutboxRow): Promise<string> {
    const sender = this.opts.senders?.[row.sender as string];
    if (!sender) return Promise.reject(new Error(`no sender ${row.sender} in this process`));
    return sender({ target: row.target as string, event: row.event, body: row.body }, this.timeoutMs);
  }

  private async send(row: repo.OutboxRow): Promise<void> {
    const { db, log } = this.opts;
    const lease = row.lease_until as Date;
    const channel = row.channel_id === null ? null : await repo.findChannel(db, null, row.channel_id);
    if (row.channel_id !== null && !channel) return; // deleted meanwhile: its rows went with it
    const target =
      channel?.id ?? (row.sender ? `${row.sender} ${row.target}` : (row.addresses ?? []).join(', '));
    let detail: string;
    try {
      detail = channel
        ? await deliver(this.opts, channel, row.body, this.timeoutMs)
        : row.sender
          ? await this.sendOwn(row)
          : await deliverToPeople(this.opts, row.addresses ?? [], row.body, this.timeoutMs);
    } catch (err) {
      const error = (err as Error).message;
      const now = Date.now();
      const delay = this.delays[Math.min(row.attempts - 1, this.delays.length - 1)] ?? 5_000;
      const giveUp = now + delay > row.created_at.getTime() + this.giveUpAfterMs;
      await repo.markFailedAttempt(db, row.id, lease, error, giveUp ? null : new Date(now + delay));
      if (giveUp) {
        log.error(
          {
            notification: row.id,
            channel: target,
            incident: row.incident_id,
            attempts: row.attempts,
            error,
          },
          'notification given up after a day of failed attempts',
        );
      } else {
        log.warn(
          { notification: row.id, channel: target, attempts: row.attempts, retryInMs: delay, error },
          'notification attempt failed; will retry',
        );
      }
      return;
    }
    await db.transaction().execute(async (tx) => {
      if (!(await repo.markDelivered(tx, row.id, lease, new Date()))) return;
      if (row.incident_id === null) return; // another capability's event: no incident timeline
      const incident = await findIncident(tx, null, row.incident_id);
      if (incident) await addEvent(tx, incident, 'notified', SYSTEM, `${row.event}: ${detail}`, new Date());
    });
  }
}
