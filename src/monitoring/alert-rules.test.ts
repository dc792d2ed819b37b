import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  defaultRule,
  type EffectiveRule,
  effectiveRule,
  evaluate,
  IDLE,
  MIN_REQUESTS,
  type RuleState,
  severityOf,
} from './alert-rules.ts';
import type { InstanceSample, ServiceSnapshot } from './monitoring.types.ts';

const T0 = Date.UTC(2026, 10, 3, 9, 0, 0);

function snap(over: Partial<ServiceSnapshot> = {}, at = T0): ServiceSnapshot {
  return {
    serviceId: 'svc-1',
    departmentId: 'dept-1',
    key: 'IRD/etax',
    tier: 'gold',
    state: 'up',
    downSince: null,
    lastProbe: { at, ok: true, status: 200, ms: 12, error: null },
    consecutiveFailures: 0,
    traffic: { windowSec: 300, requests: 1000, errors5xx: 0, p50Ms: 20, p95Ms: 80, p99Ms: 150 },
    instances: [instance()],
    at,
    ...over,
  };
}

function instance(over: Partial<InstanceSample> = {}): InstanceSample {
  return {
    instanceId: 'etax-1',
    state: 'healthy',
    restarts: 0,
    memoryBytes: 100 * 2 ** 20,
    memoryLimitBytes: 512 * 2 ** 20,
    cpu: 0.1,
    ...over,
  };
}

/** Runs a rule over snapshots in order; returns each step's change. */
function run(rule: EffectiveRule, snaps: ServiceSnapshot[], start: RuleState = IDLE) {
  let state = start;
  return snaps.map((s) => {
    const e = evaluate(rule, state, s);
    state = e.state;
    return { change: e.change, firing: state.firing, value: e.measurement.value };
  });
}

describe('alert rule defaults and severity', () => {
  it('gives tighter error-rate thresholds to higher tiers', () => {
    assert.equal(defaultRule('gold', 'error-rate').threshold, 1);
    assert.equal(defaultRule('silver', 'error-rate').threshold, 2);
    assert.equal(defaultRule('bronze', 'error-rate').threshold, 5);
    assert.equal(defaultRule('gold', 'service-down').forSeconds, 0);
  });

  it('lays an override over the default, null fields keeping the default', () => {
    const r = effectiveRule('silver', 'latency', {
      enabled: true,
      threshold: 500,
      forSeconds: null,
      clearSeconds: 15,
    });
    assert.deepEqual(r, {
      rule: 'latency',
      enabled: true,
      threshold: 500,
      forSeconds: 300,
      clearSeconds: 15,
    });
    // A threshold on a state rule is meaningless and ignored.
    assert.equal(
      effectiveRule('gold', 'crash-loop', { enabled: true, threshold: 3, forSeconds: 10, clearSeconds: null })
        .threshold,
      null,
    );
  });

  it('derives severity from tier and symptom', () => {
    assert.equal(severityOf('gold', 'service-down'), 'P1');
    assert.equal(severityOf('silver', 'service-down'), 'P2');
    assert.equal(severityOf('bronze', 'service-down'), 'P3');
    assert.equal(severityOf('gold', 'error-rate'), 'P2');
    assert.equal(severityOf('bronze', 'error-rate'), 'P4');
    assert.equal(severityOf('gold', 'latency'), 'P3');
    assert.equal(severityOf('bronze', 'memory'), 'P4');
  });
});

describe('alert rule evaluation', () => {
  it('service-down fires on the first down snapshot and, without a clear duration, resolves on the first up one', () => {
    const steps = run({ ...defaultRule('gold', 'service-down'), clearSeconds: 0 }, [
      snap(),
      snap({ state: 'down', consecutiveFailures: 2, downSince: T0 }, T0 + 10_000),
      snap({ state: 'down', consecutiveFailures: 3, downSince: T0 }, T0 + 20_000),
      snap({ state: 'unknown' }, T0 + 25_000),
      snap({}, T0 + 30_000),
    ]);
    assert.deepEqual(
      steps.map((s) => s.change),
      [null, 'fire', null, null, 'resolve'],
    );
    assert.equal(steps[3]?.firing, true, 'unknown says nothing: a firing alert stays firing');
  });

  it('error-rate waits for its duration, and ignores too little traffic', () => {
    const rule: EffectiveRule = {
      rule: 'error-rate',
      enabled: true,
      threshold: 1,
      forSeconds: 60,
      clearSeconds: 0,
    };
    const bad = { windowSec: 300, requests: 1000, errors5xx: 30, p50Ms: 20, p95Ms: 80, p99Ms: 90 };
    const steps = run(rule, [
      snap({ traffic: bad }, T0),
      snap({ traffic: bad }, T0 + 30_000),
      snap({ traffic: bad }, T0 + 60_000),
      snap({ traffic: { ...bad, requests: MIN_REQUESTS - 1, errors5xx: MIN_REQUESTS - 1 } }, T0 + 70_000),
    ]);
    assert.deepEqual(
      steps.map((s) => s.change),
      [null, null, 'fire', 'resolve'],
    );
    assert.equal(steps[2]?.value, 3);
  });

  it('a breach that stops before its duration never fires, and the clock restarts', () => {
    const rule: EffectiveRule = {
      rule: 'latency',
      enabled: true,
      threshold: 1000,
      forSeconds: 60,
      clearSeconds: 0,
    };
    const slow = (at: number) => snap({ traffic: { ...snap().traffic, p95Ms: 2500 } }, at);
    const steps = run(rule, [
      slow(T0),
      slow(T0 + 50_000),
      snap({}, T0 + 55_000),
      slow(T0 + 60_000),
      slow(T0 + 110_000),
      slow(T0 + 120_000),
    ]);
    assert.deepEqual(
      steps.map((s) => s.change),
      [null, null, null, null, null, 'fire'],
    );
  });

  it('latency exactly at the threshold is not a breach', () => {
    const rule: EffectiveRule = {
      rule: 'latency',
      enabled: true,
      threshold: 80,
      forSeconds: 0,
      clearSeconds: 0,
    };
    assert.equal(evaluate(rule, IDLE, snap()).change, null);
  });

  it('crash-loop fires when any instance crash-loops', () => {
    const rule = defaultRule('silver', 'crash-loop');
    const e = evaluate(
      rule,
      IDLE,
      snap({ instances: [instance(), instance({ instanceId: 'etax-2', state: 'crash-loop', restarts: 7 })] }),
    );
    assert.equal(e.change, 'fire');
    assert.equal(e.measurement.value, 1);
    assert.match(e.measurement.message, /etax-2: 7 restarts/);
  });

  it('memory takes the fullest instance and waits its duration', () => {
    const rule: EffectiveRule = {
      rule: 'memory',
      enabled: true,
      threshold: 90,
      forSeconds: 120,
      clearSeconds: 0,
    };
    const full = (at: number) =>
      snap({ instances: [instance(), instance({ instanceId: 'etax-2', memoryBytes: 470 * 2 ** 20 })] }, at);
    const steps = run(rule, [full(T0), full(T0 + 119_000), full(T0 + 120_000)]);
    assert.deepEqual(
      steps.map((s) => s.change),
      [null, null, 'fire'],
    );
    assert.equal(steps[2]?.value, 91.8);
    // No memory figures: nothing can be said.
    const none = evaluate(
      rule,
      { breachingSince: T0, firing: true, clearingSince: null },
      snap({ instances: [instance({ memoryBytes: null })] }),
    );
    assert.equal(none.change, null);
    assert.equal(none.state.firing, true);
  });

  it('turning a rule off resolves it when firing, and never fires it', () => {
    const off: EffectiveRule = { ...defaultRule('gold', 'service-down'), enabled: false };
    const down = snap({ state: 'down', consecutiveFailures: 2 });
    assert.equal(evaluate(off, IDLE, down).change, null);
    assert.equal(
      evaluate(off, { breachingSince: T0, firing: true, clearingSince: null }, down).change,
      'resolve',
    );
  });
});

describe('alert hysteresis: the clear duration', () => {
  const downSnap = (at: number) => snap({ state: 'down', consecutiveFailures: 2, downSince: at }, at);
  const upSnap = (at: number) => snap({}, at);

  it('has a clear duration per tier: 30 s for service-down, longer for rates at lower tiers', () => {
    assert.equal(defaultRule('gold', 'service-down').clearSeconds, 30);
    assert.equal(defaultRule('gold', 'error-rate').clearSeconds, 60);
    assert.equal(defaultRule('bronze', 'error-rate').clearSeconds, 120);
    assert.equal(defaultRule('silver', 'memory').clearSeconds, 120);
  });

  it('a flapping service keeps one firing alert: it clears only after 30 s of good probes', () => {
    // Probes every 10 s: down, up, down, up, up, up, up. The dips come back before 30 s of good.
    const steps = [
      downSnap(T0),
      upSnap(T0 + 10_000),
      upSnap(T0 + 20_000),
      downSnap(T0 + 30_000),
      upSnap(T0 + 40_000),
      upSnap(T0 + 50_000),
      upSnap(T0 + 60_000),
      upSnap(T0 + 70_000),
    ];
    let state = IDLE;
    const changes = steps.map((s) => {
      const e = evaluate(defaultRule('gold', 'service-down'), state, s);
      state = e.state;
      return [e.change, e.at];
    });
    assert.deepEqual(changes, [
      ['fire', T0],
      [null, T0 + 10_000],
      [null, T0 + 20_000],
      // The dip restarts the clear: no resolve, no second fire.
      [null, T0 + 30_000],
      [null, T0 + 40_000],
      [null, T0 + 50_000],
      [null, T0 + 60_000],
      // 30 s after the first good probe of the streak; the resolution is dated at that probe.
      ['resolve', T0 + 40_000],
    ]);
    assert.deepEqual(state, IDLE);
  });

  it('unknown while clearing keeps the clear going; a rule turned off resolves at once', () => {
    const rule = defaultRule('gold', 'service-down');
    const firing = { breachingSince: T0, firing: true, clearingSince: null };
    const a = evaluate(rule, firing, upSnap(T0 + 10_000));
    assert.equal(a.state.clearingSince, T0 + 10_000);
    const b = evaluate(rule, a.state, snap({ state: 'unknown' }, T0 + 20_000));
    assert.deepEqual([b.change, b.state.clearingSince], [null, T0 + 10_000]);
    const c = evaluate(rule, b.state, upSnap(T0 + 40_000));
    assert.deepEqual([c.change, c.at], ['resolve', T0 + 10_000]);
    const off = evaluate({ ...rule, enabled: false }, a.state, upSnap(T0 + 11_000));
    assert.deepEqual([off.change, off.at], ['resolve', T0 + 11_000]);
  });

  it('an override sets the clear duration; null keeps the tier default', () => {
    const o = { enabled: true, threshold: null, forSeconds: null };
    assert.equal(effectiveRule('gold', 'error-rate', { ...o, clearSeconds: 300 }).clearSeconds, 300);
    assert.equal(effectiveRule('gold', 'error-rate', { ...o, clearSeconds: null }).clearSeconds, 60);
  });
});
