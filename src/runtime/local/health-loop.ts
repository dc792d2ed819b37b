/**
 * The health checks of one run of an instance, and what they make of its state: `starting`
 * until the first pass, then `healthy`, `unhealthy` after consecutive failures, and `healthy`
 * again on the next pass. It never kills: whether a failing instance is replaced is the
 * caller's call (a rollout aborts, the router stops sending it traffic).
 */
import type { HealthCheck, InstanceState } from '../runtime.types.ts';
import { probe } from './health-check.ts';

/** While starting, check often: a rolling deploy waits for this first pass. */
export const STARTING_CHECK_MS = 50;
/** Failures in a row before a healthy instance counts as unhealthy; one blip is not an outage. */
export const UNHEALTHY_AFTER = 3;

type HealthState = Extract<InstanceState, 'starting' | 'healthy' | 'unhealthy'>;

export interface HealthHooks {
  setState(state: HealthState): void;
  /** The reason of the last failed check. */
  problem(reason: string): void;
}

export class HealthLoop {
  healthyAt: string | null = null;
  private state: HealthState = 'starting';
  private healthySince: number | null = null;
  private failures = 0;
  private deadline = 0;
  /** Numbers the runs, so that a probe still in flight from an ended run is ignored. */
  private generation = 0;
  private active = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly check: HealthCheck,
    private readonly port: number,
    private readonly running: () => boolean,
    private readonly hooks: HealthHooks,
  ) {}

  /** Starts checking a new run, which begins as `starting`. */
  begin(): void {
    this.end();
    this.active = true;
    this.state = 'starting';
    this.healthyAt = null;
    this.deadline = Date.now() + this.check.startTimeoutSec * 1000;
    this.schedule(0);
  }

  /** Stops checking; returns since when the run had been healthy without a break (null: it was not). */
  end(): number | null {
    const since = this.healthySince;
    this.active = false;
    this.generation++;
    this.healthySince = null;
    this.failures = 0;
    clearTimeout(this.timer);
    return since;
  }

  private schedule(delayMs: number): void {
    const generation = this.generation;
    this.timer = setTimeout(() => void this.tick(generation), delayMs);
  }

  private async tick(generation: number): Promise<void> {
    const result = await probe(this.check, this.port, this.running);
    if (generation !== this.generation || !this.active) return;
    if (result.ok) this.passed();
    else this.failed(result.reason);
    if (generation !== this.generation || !this.active) return; // a hook may have ended the run
    this.schedule(this.state === 'starting' ? STARTING_CHECK_MS : this.check.intervalMs);
  }

  private move(state: HealthState): void {
    this.state = state;
    this.hooks.setState(state);
  }

  private passed(): void {
    this.failures = 0;
    if (this.state === 'healthy') return;
    this.healthyAt = new Date().toISOString();
    this.healthySince = Date.now();
    this.move('healthy');
  }

  private failed(reason: string): void {
    this.hooks.problem(reason);
    if (this.state === 'starting') {
      // Too slow to start: say so, and keep checking at the normal pace; it may still come up.
      if (Date.now() >= this.deadline) this.move('unhealthy');
      return;
    }
    this.failures++;
    if (this.state === 'healthy' && this.failures >= UNHEALTHY_AFTER) {
      this.healthySince = null;
      this.move('unhealthy');
    }
  }
}
