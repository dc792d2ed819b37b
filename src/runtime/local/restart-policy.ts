/**
 * When to restart an instance that exited on its own. The first crash restarts at once (a lone
 * instance that was killed should be back in well under a second); after that the wait doubles
 * from half a second to 30 s, so that a broken release does not spin the CPU. An instance that
 * stays healthy for a minute has earned a clean slate.
 */

export interface RestartPolicyOptions {
  /** Wait before the second restart; doubles with each further crash. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** This many crashes inside `loopWindowMs` make the state `crash-loop`. */
  loopCrashes: number;
  loopWindowMs: number;
  /** Healthy this long before a crash: the back-off starts again from zero. */
  stableMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicyOptions = {
  firstDelayMs: 500,
  maxDelayMs: 30_000,
  loopCrashes: 3,
  loopWindowMs: 60_000,
  stableMs: 60_000,
};

export interface RestartDecision {
  delayMs: number;
  crashLoop: boolean;
}

export class RestartPolicy {
  /** How many crashes in a row, without a stable healthy spell between them. */
  private step = 0;
  private crashes: number[] = [];

  constructor(private readonly opts: RestartPolicyOptions = DEFAULT_RESTART_POLICY) {}

  /**
   * Records a crash at `now`; `healthySince` is when the instance last turned healthy in the
   * run that just ended (null if it never did).
   */
  onCrash(now: number, healthySince: number | null): RestartDecision {
    if (healthySince !== null && now - healthySince >= this.opts.stableMs) {
      this.step = 0;
      this.crashes = [];
    }
    this.crashes = this.crashes.filter((t) => now - t < this.opts.loopWindowMs);
    this.crashes.push(now);
    const delayMs =
      this.step === 0 ? 0 : Math.min(this.opts.firstDelayMs * 2 ** (this.step - 1), this.opts.maxDelayMs);
    this.step++;
    return { delayMs, crashLoop: this.crashes.length >= this.opts.loopCrashes };
  }
}
