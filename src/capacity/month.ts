/** Calendar months as `YYYY-MM` (UTC), the unit of the demand pipeline, forecast and energy. */

export const MONTH_PATTERN = '^[0-9]{4}-(0[1-9]|1[0-2])$';
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
  const start = new Date(Date.UTC(Math.floor(i / 12), i % 12, 1));
  const end = new Date(Date.UTC(Math.floor((i + 1) / 12), (i + 1) % 12, 1));
  return { start, end };
}

export const currentMonth = (now = new Date()): string => monthOfDate(now);
