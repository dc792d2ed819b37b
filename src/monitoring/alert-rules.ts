/**
 * Alert rules: what counts as trouble for a service, with defaults per SLA tier, and the pure
 * evaluation of one rule against one snapshot. No I/O here: the evaluator (alert.engine.ts) keeps
 * the state in memory and writes only transitions.
 */
import type { SlaTier } from '../catalog/sla-tiers.ts';
import type { ServiceSnapshot } from './monitoring.types.ts';

export const RULE_NAMES = ['service-down', 'error-rate', 'latency', 'crash-loop', 'memory'] as const;
export type RuleName = (typeof RULE_NAMES)[number];

export const SEVERITIES = ['P1', 'P2', 'P3', 'P4'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** One rule as it applies to one service: the tier's default, or the service's override. */
export interface EffectiveRule {
  rule: RuleName;
  enabled: boolean;
  /** In the rule's unit (see RULE_UNITS); null for rules that have no threshold. */
  threshold: number | null;
  /** How long the symptom must last before the alert fires, seconds. */
  forSeconds: number;
  /** How long the symptom must have been gone before a firing alert clears, seconds. */
  clearSeconds: number;
}

/** What a service may override; a null field means "the tier's default". */
export interface RuleOverride {
  enabled: boolean;
  threshold: number | null;
  forSeconds: number | null;
  clearSeconds: number | null;
}

export const RULE_UNITS: Record<RuleName, string | null> = {
  'service-down': null,
  'error-rate': 'percent of requests answered 5xx',
  latency: 'ms (p95)',
  'crash-loop': null,
  memory: 'percent of the memory limit',
};

/** Rules whose threshold can be set; the others fire on a state, not a number. */
export const hasThreshold = (rule: RuleName): boolean => RULE_UNITS[rule] !== null;

/**
 * Fewest requests in the traffic window (5 minutes) before the error rate counts: with 3
 * requests one 502 is 33 %, which says nothing about the service.
 */
export const MIN_REQUESTS = 20;

/**
 * Defaults per tier, `[threshold, forSeconds, clearSeconds]`. Why these numbers:
 * - service-down: the engine declares `down` only after 2 failed probes in a row, so the rule
 *   itself waits no longer (0 s): a gold outage pages within two probe intervals.
 * - error-rate: the share of 5xx over the router's 5-minute window. Gold 1 %, silver 2 %,
 *   bronze 5 %; the window already smooths spikes, so 1, 2 and 5 minutes more.
 * - latency: p95 over the same window. 1 s / 2 s / 3 s for 5 / 5 / 10 minutes: slowness hurts
 *   less than errors, so it must last before it wakes anyone.
 * - crash-loop: the runtime only says `crash-loop` after repeated failed restarts: fire at once.
 * - memory: 90 % of the limit for 2 / 5 / 5 minutes: near the limit the kernel kills the instance.
 *
 * The clear duration is the hysteresis (docs/decisions/011-alert-hysteresis.md): a firing alert
 * clears only once its symptom has been gone that long, so a flapping service keeps one alert
 * and one incident instead of opening one per dip.
 * - service-down: 30 s, three probe intervals at the default 10 s: the service must answer
 *   probes for half a minute before "resolved" is announced. The same for every tier: it only
 *   delays the good news, and the outage (the SLA's record) still ends at the first success.
 * - error-rate and latency: 60 s for gold and silver, 120 s for bronze. The 5-minute window
 *   already smooths the figure; a minute more keeps a rate hovering at the threshold from
 *   toggling. Bronze pages nobody at night, so it may wait longer for a quieter history.
 * - crash-loop: 120 s: an instance that restarts, serves for a moment and crashes again is
 *   still looping.
 * - memory: 120 s: usage hovering around the threshold would otherwise flap with every sample.
 */
export const TIER_DEFAULTS: Record<SlaTier, Record<RuleName, [number | null, number, number]>> = {
  gold: {
    'service-down': [null, 0, 30],
    'error-rate': [1, 60, 60],
    latency: [1000, 300, 60],
    'crash-loop': [null, 0, 120],
    memory: [90, 120, 120],
  },
  silver: {
    'service-down': [null, 0, 30],
    'error-rate': [2, 120, 60],
    latency: [2000, 300, 60],
    'crash-loop': [null, 0, 120],
    memory: [90, 300, 120],
  },
  bronze: {
    'service-down': [null, 0, 30],
    'error-rate': [5, 300, 120],
    latency: [3000, 600, 120],
    'crash-loop': [null, 0, 120],
    memory: [90, 300, 120],
  },
};

/**
 * An alert that fires again within this many seconds of clearing reopens the incident it
 * resolved (the same problem came back) instead of opening a new one: the desk keeps one
 * incident, its acknowledgement, assignee and notes, and one count in the SLA report.
 */
export const REOPEN_WINDOW_SEC = 600;

export function defaultRule(tier: SlaTier, rule: RuleName): EffectiveRule {
  const [threshold, forSeconds, clearSeconds] = (TIER_DEFAULTS[tier] ?? TIER_DEFAULTS.bronze)[rule];
  return { rule, enabled: true, threshold, forSeconds, clearSeconds };
}

/** The rule after a service's override is laid over the tier's default. */
export function effectiveRule(tier: SlaTier, rule: RuleName, override?: RuleOverride | null): EffectiveRule {
  const base = defaultRule(tier, rule);
  if (!override) return base;
  return {
    rule,
    enabled: override.enabled,
    threshold: hasThreshold(rule) ? (override.threshold ?? base.threshold) : null,
    forSeconds: override.forSeconds ?? base.forSeconds,
    clearSeconds: override.clearSeconds ?? base.clearSeconds,
  };
}

/**
 * Severity by tier and symptom (P1 most urgent):
 *
 * | rule         | gold | silver | bronze |
 * |--------------|------|--------|--------|
 * | service-down | P1   | P2     | P3     |
 * | error-rate   | P2   | P3     | P4     |
 * | crash-loop   | P2   | P3     | P4     |
 * | latency      | P3   | P4     | P4     |
 * | memory       | P3   | P4     | P4     |
 *
 * Down is what citizens feel at once; errors and a crash-looping instance (others may still
 * serve) one level lower; slowness and memory pressure are warnings.
 */
export function severityOf(tier: SlaTier, rule: RuleName): Severity {
  const tierLevel = tier === 'gold' ? 0 : tier === 'silver' ? 1 : 2;
  const ruleLevel = rule === 'service-down' ? 0 : rule === 'error-rate' || rule === 'crash-loop' ? 1 : 2;
  return SEVERITIES[Math.min(3, tierLevel + ruleLevel)] as Severity;
}

/** What the evaluator remembers of one rule of one service between snapshots. */
export interface RuleState {
  /** Epoch ms of the first snapshot of the current breach; null when not breaching. */
  breachingSince: number | null;
  firing: boolean;
  /** While firing: epoch ms of the first good snapshot since the last breach; null otherwise. */
  clearingSince: number | null;
}

export const IDLE: RuleState = { breachingSince: null, firing: false, clearingSince: null };

export interface Measurement {
  /** `nodata`: the snapshot cannot tell (service not probed yet): keep the state as it is. */
  verdict: 'breach' | 'ok' | 'nodata';
  value: number | null;
  /** One line for people, e.g. `p95 2300 ms over 5 min (threshold 1000 ms)`. */
  message: string;
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Reads one rule's symptom from a snapshot. */
export function measure(rule: EffectiveRule, snap: ServiceSnapshot): Measurement {
  const t = rule.threshold ?? 0;
  const minutes = round(snap.traffic.windowSec / 60);
  switch (rule.rule) {
    case 'service-down': {
      if (snap.state === 'unknown') return { verdict: 'nodata', value: null, message: 'not probed yet' };
      const why = snap.lastProbe?.error ? `: ${snap.lastProbe.error}` : '';
      return snap.state === 'down'
        ? {
            verdict: 'breach',
            value: snap.consecutiveFailures,
            message: `${snap.key} is down (${snap.consecutiveFailures} failed probes${why})`,
          }
        : { verdict: 'ok', value: 0, message: `${snap.key} answers again` };
    }
    case 'error-rate': {
      const { requests, errors5xx } = snap.traffic;
      if (requests < MIN_REQUESTS) {
        return {
          verdict: 'ok',
          value: null,
          message: `${requests} requests in ${minutes} min: too few to judge the error rate`,
        };
      }
      const pct = (errors5xx / requests) * 100;
      return {
        verdict: pct > t ? 'breach' : 'ok',
        value: round(pct, 2),
        message: `${round(pct, 2)} % of ${requests} requests answered 5xx over ${minutes} min (threshold ${t} %)`,
      };
    }
    case 'latency': {
      const p95 = snap.traffic.p95Ms;
      if (p95 === null || snap.traffic.requests === 0) {
        return { verdict: 'ok', value: null, message: `no requests in ${minutes} min` };
      }
      return {
        verdict: p95 > t ? 'breach' : 'ok',
        value: round(p95),
        message: `p95 latency ${round(p95)} ms over ${minutes} min (threshold ${t} ms)`,
      };
    }
    case 'crash-loop': {
      const looping = snap.instances.filter((i) => i.state === 'crash-loop');
      return looping.length > 0
        ? {
            verdict: 'breach',
            value: looping.length,
            message: `${looping.length} of ${snap.instances.length} instances of ${snap.key} are crash-looping (${looping
              .map((i) => `${i.instanceId}: ${i.restarts} restarts`)
              .join(', ')})`,
          }
        : { verdict: 'ok', value: 0, message: 'no instance is crash-looping' };
    }
    case 'memory': {
      // The fullest instance decides: one instance near its limit is about to be killed.
      let worst: { id: string; pct: number } | null = null;
      for (const i of snap.instances) {
        if (i.memoryBytes === null || !(i.memoryLimitBytes > 0)) continue;
        const pct = (i.memoryBytes / i.memoryLimitBytes) * 100;
        if (!worst || pct > worst.pct) worst = { id: i.instanceId, pct };
      }
      if (!worst) return { verdict: 'nodata', value: null, message: 'no memory figures' };
      return {
        verdict: worst.pct >= t ? 'breach' : 'ok',
        value: round(worst.pct),
        message: `instance ${worst.id} uses ${round(worst.pct)} % of its memory limit (threshold ${t} %)`,
      };
    }
  }
}

export interface Evaluation {
  state: RuleState;
  /** `fire` and `resolve` are the transitions the evaluator records; null: nothing to record. */
  change: 'fire' | 'resolve' | null;
  /**
   * Epoch ms the change took effect: the snapshot's time for `fire`; for `resolve` the first good
   * snapshot of the streak that cleared it, so a resolution's time is when the symptom went away,
   * not when the clear duration ran out.
   */
  at: number;
  measurement: Measurement;
}

/**
 * One step of one rule: from the state before and a snapshot to the state after. A breach must
 * last `forSeconds` (counted from its first snapshot) before the alert fires; once firing, the
 * symptom must stay away for `clearSeconds` (counted from the first good snapshot, and started
 * again by any breach) before the alert resolves. A disabled rule never fires and resolves one
 * that was firing at once: that is a person's decision, not a measurement.
 */
export function evaluate(rule: EffectiveRule, state: RuleState, snap: ServiceSnapshot): Evaluation {
  const measurement = measure(rule, snap);
  const at = snap.at;
  if (!rule.enabled) {
    return {
      state: IDLE,
      change: state.firing ? 'resolve' : null,
      at,
      measurement: { ...measurement, message: `rule ${rule.rule} was turned off` },
    };
  }
  if (measurement.verdict === 'nodata') return { state, change: null, at, measurement };
  if (measurement.verdict === 'ok') {
    if (!state.firing) return { state: IDLE, change: null, at, measurement };
    const clearing = state.clearingSince ?? at;
    if (at - clearing >= rule.clearSeconds * 1000) {
      return { state: IDLE, change: 'resolve', at: clearing, measurement };
    }
    return { state: { ...state, clearingSince: clearing }, change: null, at, measurement };
  }
  const since = state.breachingSince ?? at;
  if (state.firing) {
    return {
      state: { breachingSince: since, firing: true, clearingSince: null },
      change: null,
      at,
      measurement,
    };
  }
  const due = at - since >= rule.forSeconds * 1000;
  return {
    state: { breachingSince: since, firing: due, clearingSince: null },
    change: due ? 'fire' : null,
    at,
    measurement,
  };
}
