/**
 * The alert evaluator: listens to the monitoring engine's snapshots, evaluates every rule of the
 * service in memory, and touches the store only on a transition (fire or resolve), writing the
 * alert, the incident, its timeline and the queued notifications in one transaction.
 */
import type { EventEmitter } from 'node:events';
import type { Db, Executor } from '../platform/database.ts';
import * as alerts from './alert.repository.ts';
import {
  type EffectiveRule,
  type Evaluation,
  effectiveRule,
  evaluate,
  IDLE,
  RULE_NAMES,
  type RuleName,
  type RuleOverride,
  type RuleState,
  severityOf,
} from './alert-rules.ts';
import { openForAlert, resolveForAlert } from './incident.logic.ts';
import type { MonitoringEvents, ServiceSnapshot } from './monitoring.types.ts';
import type { Log } from './notification.dispatcher.ts';

interface Watched {
  states: Map<RuleName, RuleState>;
  /** A transition is being written: later snapshots wait (only the newest is kept). */
  writing: Promise<void> | null;
  next: ServiceSnapshot | null;
}

interface Transition {
  rule: EffectiveRule;
  evaluation: Evaluation;
}

export interface EvaluatorOptions {
  db: Db;
  log: Log;
  /** Told after a transition committed: new notifications wait in the outbox. */
  onTransition?: () => void;
  /** How often rule overrides are re-read from the store (default 30 s). */
  rulesRefreshMs?: number;
}

export class AlertEvaluator {
  private readonly watched = new Map<string, Watched>();
  private overrides = new Map<string, Map<RuleName, RuleOverride>>();
  private refreshTimer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private events: EventEmitter<MonitoringEvents> | null = null;
  private readonly onSnapshot = (s: ServiceSnapshot) => this.handle(s);
  private readonly onUnwatched = (u: { serviceId: string; at: number }) => {
    this.track(this.unwatch(u.serviceId, u.at));
  };

  constructor(private readonly opts: EvaluatorOptions) {}

  /** Loads firing alerts (they stay firing across a restart) and the overrides, then listens. */
  async start(events: EventEmitter<MonitoringEvents>): Promise<void> {
    await this.reloadRules();
    for (const a of await alerts.firingAlerts(this.opts.db)) {
      this.entry(a.service_id).states.set(a.rule as RuleName, {
        breachingSince: a.started_at.getTime(),
        firing: true,
        // A clear in progress is not remembered: after a restart it must be seen again in full.
        clearingSince: null,
      });
    }
    this.events = events;
    events.on('snapshot', this.onSnapshot);
    events.on('unwatched', this.onUnwatched);
    this.refreshTimer = setInterval(() => {
      this.reloadRules().catch((err) => this.opts.log.warn({ err }, 'could not re-read alert rules'));
    }, this.opts.rulesRefreshMs ?? 30_000);
    this.refreshTimer.unref();
  }

  /** Stops listening and waits for the transitions being written. */
  async stop(): Promise<void> {
    this.events?.off('snapshot', this.onSnapshot);
    this.events?.off('unwatched', this.onUnwatched);
    this.events = null;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** Re-reads every service's overrides (one query); the API's changes apply within the refresh. */
  async reloadRules(): Promise<void> {
    const next = new Map<string, Map<RuleName, RuleOverride>>();
    for (const o of await alerts.allOverrides(this.opts.db)) {
      let m = next.get(o.serviceId);
      if (!m) {
        m = new Map();
        next.set(o.serviceId, m);
      }
      m.set(o.rule, {
        enabled: o.enabled,
        threshold: o.threshold,
        forSeconds: o.forSeconds,
        clearSeconds: o.clearSeconds,
      });
    }
    this.overrides = next;
  }

  /** Which rules fire now, per service, as this evaluator sees them. */
  firing(): { serviceId: string; rule: RuleName }[] {
    const out: { serviceId: string; rule: RuleName }[] = [];
    for (const [serviceId, w] of this.watched) {
      for (const [rule, s] of w.states) if (s.firing) out.push({ serviceId, rule });
    }
    return out;
  }

  private entry(serviceId: string): Watched {
    let w = this.watched.get(serviceId);
    if (!w) {
      w = { states: new Map(), writing: null, next: null };
      this.watched.set(serviceId, w);
    }
    return w;
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private handle(snap: ServiceSnapshot): void {
    const w = this.entry(snap.serviceId);
    if (w.writing) {
      w.next = snap;
      return;
    }
    const transitions: Transition[] = [];
    const overrides = this.overrides.get(snap.serviceId);
    for (const name of RULE_NAMES) {
      const rule = effectiveRule(snap.tier, name, overrides?.get(name));
      const evaluation = evaluate(rule, w.states.get(name) ?? IDLE, snap);
      if (evaluation.change) transitions.push({ rule, evaluation });
      else w.states.set(name, evaluation.state);
    }
    if (transitions.length === 0) return;
    w.writing = this.record(snap, transitions)
      .then(() => {
        // Only a recorded transition changes the state: a failed write is tried again next snapshot.
        for (const t of transitions) w.states.set(t.rule.rule, t.evaluation.state);
        this.opts.onTransition?.();
      })
      .catch((err) => this.opts.log.error({ err, service: snap.key }, 'could not record an alert transition'))
      .finally(() => {
        w.writing = null;
        const next = w.next;
        w.next = null;
        if (next && this.events && this.watched.get(snap.serviceId) === w) this.handle(next);
      });
    this.track(w.writing);
  }

  private async record(snap: ServiceSnapshot, transitions: Transition[]): Promise<void> {
    await this.opts.db.transaction().execute(async (tx) => {
      for (const { rule, evaluation } of transitions) {
        const { value, message } = evaluation.measurement;
        const at = new Date(evaluation.at);
        if (evaluation.change === 'fire') {
          await fire(tx, snap, rule, value, message, at);
        } else {
          await resolve(tx, snap.serviceId, rule.rule, at, message);
        }
      }
    });
    this.opts.log.info(
      { service: snap.key, changes: transitions.map((t) => `${t.rule.rule} ${t.evaluation.change}`) },
      'alert transition',
    );
  }

  private async unwatch(serviceId: string, at: number): Promise<void> {
    const w = this.watched.get(serviceId);
    this.watched.delete(serviceId);
    // Let a transition of this service being written land first, so the resolution comes after it.
    if (w) {
      w.next = null;
      await w.writing;
    }
    try {
      let changed = false;
      await this.opts.db.transaction().execute(async (tx) => {
        for (const a of await alerts.firingAlerts(tx, null, serviceId)) {
          await resolve(tx, serviceId, a.rule, new Date(at), 'the service is no longer watched');
          changed = true;
        }
      });
      if (changed) this.opts.onTransition?.();
    } catch (err) {
      this.opts.log.error({ err, serviceId }, 'could not resolve the alerts of an unwatched service');
    }
  }
}

async function fire(
  tx: Executor,
  snap: ServiceSnapshot,
  rule: EffectiveRule,
  value: number | null,
  message: string,
  at: Date,
): Promise<void> {
  // Another process (or a run before a crash) may have recorded it already: one firing alert per rule.
  const already = (await alerts.firingAlerts(tx, null, snap.serviceId)).find((a) => a.rule === rule.rule);
  const alert =
    already ??
    (await alerts.insertAlert(tx, {
      service_id: snap.serviceId,
      department_id: snap.departmentId,
      service_key: snap.key,
      rule: rule.rule,
      state: 'firing',
      value,
      threshold: rule.threshold,
      message,
      started_at: at,
      resolved_at: null,
    }));
  await openForAlert(tx, alert, severityOf(snap.tier, rule.rule));
}

async function resolve(
  tx: Executor,
  serviceId: string,
  rule: string,
  at: Date,
  message: string,
): Promise<void> {
  await alerts.resolveAlert(tx, serviceId, rule, at);
  await resolveForAlert(tx, serviceId, rule, at, message);
}
