/** Calendar months as `YYYY-MM` (UTC), the unit of the demand pipeline, forecast and energy. */

// Years 0001 to 9998: the calendar has no year 0, and a month of 9999 ends in the year 10000,
// which the store's timestamps are not read in.
// Spelled without lookaheads, which the API fuzzer's generator (fast-check) cannot read.
const YEAR = '(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])';
export const MONTH_PATTERN = `^${YEAR}-(0[1-9]|1[0-2])$`;
const MONTH_RE = new RegExp(MONTH_PATTERN);

export const isMonth = (s: string): boolean => MONTH_RE.test(s);

/** Months since year 0: makes month arithmetic plain integer arithmetic. */
export function monthIndex(month: string): number {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return y * 12 + (m - 1);
}

export function monthOf(index: number): string {
  const y = Math.floor(index / 12);
  const m = index - y * 12 + 1;
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}`;
}

export const addMonths = (month: string, n: number): string => monthOf(monthIndex(month) + n);

/** The month a `YYYY-MM-DD` date (or a Date, in UTC) falls in. */
export const monthOfDate = (d: string | Date): string =>
  (typeof d === 'string' ? d : d.toISOString()).slice(0, 7);

/** [start, end) of a month as UTC instants. */
export function monthBounds(month: string): { start: Date; end: Date } {
  const i = monthIndex(month);
  return { start: firstOfMonth(i), end: firstOfMonth(i + 1) };
}

/** Midnight UTC of a month's first day; not Date.UTC, which reads the years 0 to 99 as 1900 to 1999. */
function firstOfMonth(index: number): Date {
  const d = new Date(0);
  d.setUTCFullYear(Math.floor(index / 12), index % 12, 1);
  return d;
}

export const currentMonth = (now = new Date()): string => monthOfDate(now);
