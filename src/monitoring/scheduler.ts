/**
 * One timer for every scheduled probe: a hashed timer wheel. Each slot holds the keys due in its
 * tick; one interval timer walks the slots. Scheduling and cancelling are O(1), and 10,000
 * services cost one timer, not 10,000.
 */
export class TimerWheel<K> {
  private readonly slots: Map<K, number>[];
  private readonly due = new Map<K, number>();
  private lastTick: number;
  private timer: NodeJS.Timeout | null = null;

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
    const n = Math.max(2, Math.ceil(horizonMs / tickMs) + 1);
    this.slots = Array.from({ length: n }, () => new Map<K, number>());
    this.lastTick = Math.floor(clock() / tickMs);
  }

  get size(): number {
    return this.due.size;
  }

  /** Fires `key` at `at` (epoch ms); replaces an earlier schedule of the same key. */
  schedule(key: K, at: number): void {
    this.cancel(key);
    this.due.set(key, at);
    this.slotOf(at).set(key, at);
  }

  cancel(key: K): void {
    const at = this.due.get(key);
    if (at === undefined) return;
    this.due.delete(key);
    this.slotOf(at).delete(key);
  }

  has(key: K): boolean {
    return this.due.has(key);
  }

  private slotOf(at: number): Map<K, number> {
    // A time already past lands in the next slot to be walked, not a lap later.
    const tick = Math.max(Math.floor(at / this.tickMs), this.lastTick + 1);
    return this.slots[tick % this.slots.length]!;
  }

  /** Fires everything due up to now; the timer calls it, tests may too. */
  advance(): void {
    const now = this.clock();
    const nowTick = Math.floor(now / this.tickMs);
    // After a long stall one lap covers every slot.
    const from = Math.max(this.lastTick + 1, nowTick - this.slots.length + 1);
    for (let t = from; t <= nowTick; t++) {
      const slot = this.slots[t % this.slots.length]!;
      if (slot.size === 0) continue;
      const fire: [K, number][] = [];
      for (const [key, at] of slot) if (at <= now) fire.push([key, at]);
      for (const [key] of fire) {
        slot.delete(key);
        this.due.delete(key);
      }
      this.lastTick = t;
      for (const [key, at] of fire) this.onDue(key, at, now);
    }
    this.lastTick = Math.max(this.lastTick, nowTick);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.advance(), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
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
