/**
 * Clock arithmetic for the desk's SLA targets: how much of a span counts, on a business-hours
 * calendar (days of the week, opening and closing time, a time zone, holidays) or around the clock,
 * less the spans the clock was paused. Pure functions of instants: no database, no `Date.now()`.
 */

export interface Calendar {
  /** 0 Sunday … 6 Saturday. */
  days: ReadonlySet<number>;
  /** Minutes after local midnight. */
  opens: number;
  closes: number;
  timeZone: string;
  /** Local dates, YYYY-MM-DD. */
  holidays: ReadonlySet<string>;
}

/** A span of time, [from, to). */
export interface Span {
  from: Date;
  to: Date;
}

const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MINUTE = 60_000;
const DAY = 86_400_000;

/**
 * Parses `Mon-Fri 09:00-18:00 Asia/Hong_Kong` (days as a range or a comma list, e.g.
 * `Mon,Wed,Fri`); throws an Error naming what is wrong.
 */
export function parseHours(text: string, holidays: Iterable<string>): Calendar {
  const m = /^\s*([A-Za-z,-]+)\s+(\d{2}):(\d{2})-(\d{2}):(\d{2})\s+(\S+)\s*$/.exec(text);
  if (!m) throw new Error('must look like "Mon-Fri 09:00-18:00 Asia/Hong_Kong"');
  const [, dayText = '', h1, m1, h2, m2, timeZone = ''] = m;
  const dayOf = (name: string) => {
    const i = DAY_NAMES.findIndex((d) => d.toLowerCase() === name.toLowerCase());
    if (i < 0) throw new Error(`${JSON.stringify(name)} is not a day (Mon … Sun)`);
    return i;
  };
  const days = new Set<number>();
  for (const part of dayText.split(',')) {
    const [a, b] = part.split('-');
    if (!a) throw new Error('names no days');
    const first = dayOf(a);
    const last = b === undefined ? first : dayOf(b);
    for (let d = first; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === last) break;
    }
  }
  const opens = Number(h1) * 60 + Number(m1);
  const closes = Number(h2) * 60 + Number(m2);
  if (opens >= closes || closes > 24 * 60) throw new Error('must open before it closes, within one day');
  try {
    new Intl.DateTimeFormat('en', { timeZone });
  } catch {
    throw new Error(`${JSON.stringify(timeZone)} is not a time zone (e.g. Asia/Hong_Kong)`);
  }
  return { days, opens, closes, timeZone, holidays: new Set(holidays) };
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();
/** The zone's offset from UTC at `at`, in milliseconds (Hong Kong: +8 h all year). */
function offsetMs(timeZone: string, at: number): number {
  let f = offsetFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en', { timeZone, timeZoneName: 'longOffset' });
    offsetFormats.set(timeZone, f);
  }
  const name = f.formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  if (!m) return 0;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * MINUTE;
}

/** The UTC instant of a local time given as milliseconds since the epoch as if the zone were UTC. */
function localToUtc(timeZone: string, localMs: number): number {
  // Twice: the offset at the guess can differ from the offset at the answer near a DST change.
  const guess = localMs - offsetMs(timeZone, localMs);
  return localMs - offsetMs(timeZone, guess);
}

/** Month `m` (1-12) of year `y` in the zone: from its first local midnight to the next month's. */
export function monthSpan(timeZone: string, y: number, m: number): Span {
  return {
    from: new Date(localToUtc(timeZone, Date.UTC(y, m - 1, 1))),
    to: new Date(localToUtc(timeZone, Date.UTC(y, m, 1))),
  };
}

/** The business windows (UTC) of each local day that meets [from, to). */
function* windows(cal: Calendar, from: number, to: number): Generator<[number, number]> {
  const startLocal = from + offsetMs(cal.timeZone, from);
  let day = Math.floor(startLocal / DAY) * DAY; // local midnight, counted as if UTC
  for (; ; day += DAY) {
    const open = localToUtc(cal.timeZone, day + cal.opens * MINUTE);
    if (open >= to) return;
    const date = new Date(day);
    const iso = date.toISOString().slice(0, 10);
    if (!cal.days.has(date.getUTCDay()) || cal.holidays.has(iso)) continue;
    const close = localToUtc(cal.timeZone, day + cal.closes * MINUTE);
    if (close > from) yield [open, close];
  }
}

/** Milliseconds of [from, to) that count: all of it around the clock (`cal` null), else business time. */
export function countedMs(cal: Calendar | null, from: Date, to: Date): number {
  const a = from.getTime();
  const b = to.getTime();
  if (b <= a) return 0;
  if (!cal) return b - a;
  let total = 0;
  for (const [open, close] of windows(cal, a, b)) total += Math.min(close, b) - Math.max(open, a);
  return total;
}

/** Counted milliseconds from `start` to `end`, less those inside `paused` spans (which may overlap nothing). */
export function elapsedMs(cal: Calendar | null, start: Date, end: Date, paused: readonly Span[]): number {
  let total = countedMs(cal, start, end);
  for (const p of paused) {
    const from = new Date(Math.max(p.from.getTime(), start.getTime()));
    const to = new Date(Math.min(p.to.getTime(), end.getTime()));
    total -= countedMs(cal, from, to);
  }
  return total;
}

/** The instant at which `ms` counted milliseconds will have passed after `from` (no pauses ahead). */
export function addCountedMs(cal: Calendar | null, from: Date, ms: number): Date {
  const a = from.getTime();
  if (!cal || ms <= 0) return new Date(a + Math.max(ms, 0));
  let left = ms;
  // Looks ahead a year at most: a calendar with no business day in it would never end.
  for (const [open, close] of windows(cal, a, a + 366 * DAY)) {
    const start = Math.max(open, a);
    if (close - start >= left) return new Date(start + left);
    left -= close - start;
  }
  throw new Error('the business-hours calendar has no business time in the coming year');
}
