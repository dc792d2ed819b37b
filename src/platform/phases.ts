/**
 * Times the steps of one operation, so that a staging or a rollout can say where its seconds went
 * (`staged in 2.4 s (unpack 0.10 s, restore 0.20 s, npm run build 0.90 s, store 0.10 s)`).
 */
export class Phases {
  private readonly spent = new Map<string, number>();
  private readonly began = performance.now();

  /** Runs `fn` and adds its time to `name` (a step run twice counts once, summed). */
  async time<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.add(name, performance.now() - t0);
    }
  }

  add(name: string, ms: number): void {
    this.spent.set(name, (this.spent.get(name) ?? 0) + ms);
  }

  /** Milliseconds since this timer was made. */
  elapsedMs(): number {
    return performance.now() - this.began;
  }

  /** `restore 0.20 s, build 0.90 s`, in the order the steps first ran. */
  summary(): string {
    return [...this.spent].map(([name, ms]) => `${name} ${(ms / 1000).toFixed(2)} s`).join(', ');
  }

  /** Each step's whole milliseconds, for a structured log line. */
  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.spent].map(([name, ms]) => [name, Math.round(ms)]));
  }
}
