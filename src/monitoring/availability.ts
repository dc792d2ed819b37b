/**
 * Availability arithmetic: pure functions over time intervals, no database and no clock.
 *
 * The definition used by the SLA report and the status page, for one service and one period:
 * - service time: the stretches the service was `active` (from the catalogue's lifecycle
 *   history) inside [period start, min(period end, now)); time planned (before the first
 *   release), suspended or retired is not time the SLA promises. Empty for a service never active
 *   in the period, or a period in the future;
 * - maintenance: the announced windows clipped to the service time, merged where they overlap;
 * - eligible time: service time minus maintenance (planned work is not time the SLA promises);
 * - downtime: outages (an open one lasts until `now`) clipped to the service time, merged, minus
 *   maintenance;
 * - availability: (eligible - downtime) / eligible, or null when there is no eligible time: a
 *   service that did not exist is not "100 % available".
 * Times are epoch milliseconds inside; totals are whole seconds, so a partial minute counts as
 * the seconds it lasted.
 */

/** A half-open interval [start, end) of epoch milliseconds. */
export interface Interval {
  start: number;
  end: number;
}

/** Sorted, non-overlapping, non-empty intervals covering the same time as `list`. */
export function mergeIntervals(list: readonly Interval[]): Interval[] {
  const sorted = list.filter((i) => i.end > i.start).sort((a, b) => a.start - b.start);
  const out: Interval[] = [];
  for (const i of sorted) {
    const last = out.at(-1);
    // Touching intervals join too: [10, 20) and [20, 30) are one stretch of 20.
    if (last && i.start <= last.end) last.end = Math.max(last.end, i.end);
    else out.push({ start: i.start, end: i.end });
  }
  return out;
}

/** The parts of merged `list` inside [from, to). */
export function clip(list: readonly Interval[], from: number, to: number): Interval[] {
  const out: Interval[] = [];
  for (const i of list) {
    const start = Math.max(i.start, from);
    const end = Math.min(i.end, to);
    if (end > start) out.push({ start, end });
  }
  return out;
}

/** The time in both merged `a` and merged `b` (sorted, non-overlapping). */
export function intersect(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as Interval;
    const y = b[j] as Interval;
    const start = Math.max(x.start, y.start);
    const end = Math.min(x.end, y.end);
    if (end > start) out.push({ start, end });
    // Move past whichever ends first: it can overlap nothing further on.
    if (x.end <= y.end) i++;
    else j++;
  }
  return out;
}

/** Merged `a` minus merged `b`; both must be sorted and non-overlapping (as mergeIntervals gives). */
export function subtract(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  let j = 0;
  for (const i of a) {
    let start = i.start;
    while (j < b.length && (b[j] as Interval).end <= start) j++;
    for (let k = j; k < b.length && (b[k] as Interval).start < i.end; k++) {
      const cut = b[k] as Interval;
      if (cut.start > start) out.push({ start, end: cut.start });
      start = Math.max(start, cut.end);
    }
    if (i.end > start) out.push({ start, end: i.end });
  }
  return out;
}

export const totalMs = (list: readonly Interval[]): number => list.reduce((n, i) => n + i.end - i.start, 0);

/** Milliseconds to whole seconds (probe times carry milliseconds; reports count seconds). */
export const toSeconds = (ms: number): number => Math.round(ms / 1000);

/** Seconds as minutes with one decimal: 90 s is 1.5 min, 100 s is 1.7 min. */
export const toMinutes = (seconds: number): number => Math.round(seconds / 6) / 10;

export interface OutageSpan {
  startedAt: Date;
  /** Null while the service is still down: counted until `now`. */
  endedAt: Date | null;
}

export interface MaintenanceSpan {
  startsAt: Date;
  endsAt: Date;
}

export interface AvailabilityInput {
  /** The period [from, to), e.g. a calendar month or a UTC day. */
  from: Date;
  to: Date;
  /** The stretches the service was active (the catalogue's `activeSpans`): no other time counts. */
  active: readonly { start: Date; end: Date }[];
  /** Nothing after now counts (the current month is measured so far). */
  now: Date;
  outages: readonly OutageSpan[];
  maintenance: readonly MaintenanceSpan[];
  /** The tier's target availability in percent, e.g. 99.95; null to skip met/not met. */
  target: number | null;
}

export interface Availability {
  /** Active time in the period minus maintenance, in seconds. */
  eligibleSeconds: number;
  /** Outage time not covered by maintenance, in seconds. */
  downtimeSeconds: number;
  /** Maintenance inside the service time, in seconds. */
  maintenanceSeconds: number;
  /**
   * Percent, cut (not rounded) to three decimals so that it never shows a target as reached when
   * it was missed by a hair; null when there was no eligible time.
   */
  availability: number | null;
  /** Whether the target was met, decided on exact seconds; null without eligible time or target. */
  met: boolean | null;
  /** Outages that overlap the service time. */
  outages: number;
}

const NO_TIME: Availability = {
  eligibleSeconds: 0,
  downtimeSeconds: 0,
  maintenanceSeconds: 0,
  availability: null,
  met: null,
  outages: 0,
};

/** The intervals of outages, an open one ending at `now`. */
export const outageIntervals = (outages: readonly OutageSpan[], now: number): Interval[] =>
  outages.map((o) => ({ start: o.startedAt.getTime(), end: o.endedAt ? o.endedAt.getTime() : now }));

export const maintenanceIntervals = (windows: readonly MaintenanceSpan[]): Interval[] =>
  windows.map((w) => ({ start: w.startsAt.getTime(), end: w.endsAt.getTime() }));

/** Availability of one service over one period; see the definition at the top of this file. */
export function computeAvailability(input: AvailabilityInput): Availability {
  const now = input.now.getTime();
  const service = clip(
    mergeIntervals(input.active.map((s) => ({ start: s.start.getTime(), end: s.end.getTime() }))),
    input.from.getTime(),
    Math.min(input.to.getTime(), now),
  );
  const raw = outageIntervals(input.outages, now);
  const result = availabilityIn(
    service,
    mergeIntervals(raw),
    mergeIntervals(maintenanceIntervals(input.maintenance)),
    input.target,
  );
  // Counted before merging: two outages that touch are still two.
  return { ...result, outages: countOverlapping(raw, service) };
}

/**
 * The same over a service time (sorted, non-overlapping intervals, already cut to the period)
 * and already merged outages and maintenance (the status page computes 90 days of many services
 * and merges each service's intervals once, not once per day).
 */
export function availabilityIn(
  service: readonly Interval[],
  mergedOutages: readonly Interval[],
  mergedMaintenance: readonly Interval[],
  target: number | null,
): Availability {
  const serviceMs = totalMs(service);
  if (serviceMs <= 0) return NO_TIME;
  const maintenance = intersect(mergedMaintenance, service);
  const down = intersect(mergedOutages, service);
  const maintenanceSeconds = toSeconds(totalMs(maintenance));
  const eligibleSeconds = toSeconds(serviceMs - totalMs(maintenance));
  const downtimeSeconds = toSeconds(totalMs(subtract(down, maintenance)));
  const upSeconds = eligibleSeconds - downtimeSeconds;
  // Integer numerator first: (up / eligible) * 100000 in floating point can land just under a whole number.
  const availability =
    eligibleSeconds > 0 ? Math.floor((upSeconds * 100_000) / eligibleSeconds) / 1000 : null;
  // Exact: up/eligible >= target/100, in integers (targets have at most two decimals).
  const met =
    eligibleSeconds > 0 && target !== null
      ? upSeconds * 10_000 >= Math.round(target * 100) * eligibleSeconds
      : null;
  return {
    eligibleSeconds,
    downtimeSeconds,
    maintenanceSeconds,
    availability,
    met,
    outages: countOverlapping(mergedOutages, service),
  };
}

/** The intervals of `list` that overlap some of `service` (sorted, non-overlapping). */
function countOverlapping(list: readonly Interval[], service: readonly Interval[]): number {
  return list.filter((i) => i.end > i.start && service.some((s) => i.start < s.end && i.end > s.start))
    .length;
}
