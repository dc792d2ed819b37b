/**
 * One timer for every scheduled probe: a hashed timer wheel. Each slot holds the keys due in its
 * tick; one interval timer walks the slots. Scheduling and cancelling are O(1), and 10,000
 * services cost one timer, not 10,000.
 */
export class TimerWheel<K> {
  private readonly slots: Map<K, number>[];
  /** Each key's time and the slot it sits in. */
  private readonly due = new Map<K, { at: number; slot: number }>();
  /** Every tick before this one has been walked; this one is walked again until it is over. */
  private lastTick: number;
  private timer: NodeJS.Timeout | null = null;
  private started = false;

  /**
   * @param tickMs resolution of the schedule (a key fires at most this late, plus event-loop delay)
   * @param horizonMs the longest delay ever scheduled; later times still work but cost a lap each
   */
  constructor(
    private readonly tickMs: number,
    horizonMs: number,
    private readonly onDue: (key: K, dueAt: number, now: number) => void,
    private readonly clock: () => number = Date.now,
  ) {
    const n = Math.max(2, Math.ceil(horizonMs / tickMs) + 2);
    this.slots = Array.from({ length: n }, () => new Map<K, number>());
    this.lastTick = Math.floor(clock() / tickMs) - 1;
  }

  get size(): number {
    return this.due.size;
  }

  /** Fires `key` at `at` (epoch ms); replaces an earlier schedule of the same key. */
  schedule(key: K, at: number): void {
    this.cancel(key);
    // A time already past lands in the next slot to be walked, not a lap later.
    const tick = Math.max(Math.floor(at / this.tickMs), this.lastTick + 1);
    const slot = tick % this.slots.length;
    this.due.set(key, { at, slot });
    this.slots[slot]!.set(key, at);
    this.arm();
  }

  cancel(key: K): void {
    const d = this.due.get(key);
    if (!d) return;
    this.due.delete(key);
    this.slots[d.slot]!.delete(key);
  }

  has(key: K): boolean {
    return this.due.has(key);
  }

  /** Fires everything due up to now; the timer calls it, tests may too. */
  advance(): void {
    const now = this.clock();
    const nowTick = Math.floor(now / this.tickMs);
    // After a long stall one lap covers every slot.
    const from = Math.max(this.lastTick + 1, nowTick - this.slots.length + 1);
    const fire: [K, number][] = [];
    for (let t = from; t <= nowTick; t++) {
      const slot = this.slots[t % this.slots.length]!;
      if (slot.size === 0) continue;
      for (const [key, at] of slot) {
        if (at > now) continue; // later in this tick, or a later lap
        slot.delete(key);
        this.due.delete(key);
        fire.push([key, at]);
      }
    }
    // The current tick is not over: keys may still be put in it, so it is walked again.
    this.lastTick = nowTick - 1;
    for (const [key, at] of fire) this.onDue(key, at, now);
    // Nothing left to fire (no service watched, or all cancelled): the timer sleeps until a key is
    // scheduled, rather than waking the process every tick for nothing.
    if (this.due.size === 0) this.disarm();
  }

  start(): void {
    this.started = true;
    this.arm();
  }

  stop(): void {
    this.started = false;
    this.disarm();
  }

  private arm(): void {
    if (!this.started || this.timer || this.due.size === 0) return;
    this.timer = setInterval(() => this.advance(), this.tickMs);
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

/** FNV-1a of a string: a stable, well-spread phase for each service. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The first time after `now` at `phase` ms into an `interval`-long period. */
export function nextAtPhase(now: number, phase: number, interval: number): number {
  const t = now - ((((now - phase) % interval) + interval) % interval);
  return t <= now ? t + interval : t;
}
