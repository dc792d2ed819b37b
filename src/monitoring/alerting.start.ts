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
import { type Log, NotificationDispatcher } from './notification.dispatcher.ts';

export interface AlertingDeps {
  db: Db;
  config: Pick<Config, 'smtpUrl' | 'mailFrom'>;
  box: SecretBox;
  events: EventEmitter<MonitoringEvents>;
  log: Log;
  /** Test hooks: the dispatcher's poll interval and retry delays. */
  dispatcher?: { pollMs?: number; retryDelaysMs?: number[]; timeoutMs?: number };
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
    ...deps.dispatcher,
  });
  const evaluator = new AlertEvaluator({ db: deps.db, log: deps.log, onTransition: () => dispatcher.kick() });
  await evaluator.start(deps.events);
  dispatcher.start();
  return {
    firing: () => evaluator.firing(),
    reloadRules: () => evaluator.reloadRules(),
    async stop() {
      await evaluator.stop();
      await dispatcher.stop();
    },
  };
}

export { firingAlerts } from './alert.logic.ts';
