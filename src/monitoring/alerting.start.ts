/**
 * Starts alerting in the platform process: the evaluator listening to the monitoring engine, and
 * the dispatcher sending the notifications it queues (including any left by the previous run).
 */
import type { EventEmitter } from 'node:events';
import type { Config } from '../platform/config.ts';
import type { Db } from '../platform/database.ts';
import type { SecretBox } from '../platform/secrets.ts';
import { AlertEvaluator } from './alert.engine.ts';
import type { MonitoringEvents } from './monitoring.types.ts';
import { type DispatcherOptions, type Log, NotificationDispatcher } from './notification.dispatcher.ts';
import { pruneNotifications } from './notification.logic.ts';
import type { Resolve } from './webhook-target.ts';

const DAY_MS = 86_400_000;

export interface AlertingDeps {
  db: Db;
  config: Pick<Config, 'smtpUrl' | 'mailFrom' | 'webhookAllow' | 'notificationRetentionDays'>;
  box: SecretBox;
  events: EventEmitter<MonitoringEvents>;
  log: Log;
  /** Other capabilities' outbox senders (payments' webhooks), by name. */
  senders?: DispatcherOptions['senders'];
  /** Test hooks: the dispatcher's poll interval, retry delays and webhook host resolution. */
  dispatcher?: { pollMs?: number; retryDelaysMs?: number[]; timeoutMs?: number; resolve?: Resolve };
}

export interface RunningAlerting {
  /** Which rules fire now, per service id, as the evaluator holds them. */
  firing(): { serviceId: string; rule: string }[];
  /** Re-reads rule overrides now instead of at the next refresh. */
  reloadRules(): Promise<void>;
  stop(): Promise<void>;
}

export async function startAlerting(deps: AlertingDeps): Promise<RunningAlerting> {
  const dispatcher = new NotificationDispatcher({
    db: deps.db,
    box: deps.box,
    config: deps.config,
    log: deps.log,
    ...(deps.senders ? { senders: deps.senders } : {}),
    ...deps.dispatcher,
  });
  const evaluator = new AlertEvaluator({ db: deps.db, log: deps.log, onTransition: () => dispatcher.kick() });
  await evaluator.start(deps.events);
  dispatcher.start();
  // Old notifications go at start and then daily; stop() waits for a pass under way.
  let pruning: Promise<void> = Promise.resolve();
  const prune = () => {
    pruning = pruning
      .then(async () => {
        const n = await pruneNotifications(deps.db, deps.config.notificationRetentionDays);
        if (n.console + n.outbox > 0) {
          deps.log.info(
            { console: n.console, outbox: n.outbox, before: n.before.toISOString() },
            'old notifications deleted',
          );
        }
      })
      .catch((err) => deps.log.warn({ err }, 'could not delete old notifications'));
  };
  prune();
  const pruneTimer = setInterval(prune, DAY_MS);
  pruneTimer.unref();
  return {
    firing: () => evaluator.firing(),
    reloadRules: () => evaluator.reloadRules(),
    async stop() {
      clearInterval(pruneTimer);
      await evaluator.stop();
      await dispatcher.stop();
      await pruning;
    },
  };
}

export { firingAlerts } from './alert.logic.ts';
