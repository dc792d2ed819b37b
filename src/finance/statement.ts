import { monthBounds } from '../capacity/month.ts';
import type { ReservationInterval } from '../capacity/reservation-history.repository.ts';
import { csvField } from '../monitoring/sla.csv.ts';
import type { Rate } from './rate.repository.ts';
import type { RateResource } from './rate.tables.ts';

/**
 * A department's monthly statement, priced from its reservation intervals, requests, staging time
 * and the rate card: each interval is cut to the month (UTC) and to the rate periods, requests and
 * staging are summed by day and priced at the day's rate; each line (service, resource, rate)
 * is its quantity × the rate, rounded half up to the cent; the total is the sum of the lines.
 */

export interface StatementLine {
  service: string;
  resource: RateResource;
  /** The rate's first day: which rate priced the line. */
  rateFrom: string;
  centsPerUnit: number;
  /**
   * GB-hours, CPU-hours, thousands of requests or minutes of staging, to 3 decimals (the amount
   * is computed before this rounding).
   */
  quantity: number;
  amountCents: number;
}

export interface Statement {
  department: string;
  month: string;
  /** The month is not over: priced up to `pricedTo`. */
  partial: boolean;
  pricedTo: string;
  lines: StatementLine[];
  /** Reserved hours no rate covered (no rate yet for that resource and day), summed over resources. */
  unpricedHours: number;
  /** Corrections booked in this month, in cents (either sign). */
  adjustments: { forMonth: string | null; amountCents: number; reason: string; by: string; at: string }[];
  /** The month is closed: this is the statement as it stood then. */
  closed: boolean;
  closedAt: string | null;
  /** The lines plus the adjustments. */
  totalCents: number;
}

const HOUR = 3_600_000;
/** Reserved resources, priced by the hour; requests and staging minutes are counted by the day instead. */
const per: Record<
  Exclude<RateResource, 'request-thousand' | 'staging-minute'>,
  (i: ReservationInterval) => number
> = {
  'memory-gb-hour': (i) => i.memoryMb / 1024,
  'cpu-hour': (i) => i.cpu,
  'storage-gb-hour': (i) => i.storageMb / 1024,
};

/** Half up to the cent; the epsilon keeps 148.5 from reading as 148.49999. */
const cents = (v: number) => Math.floor(v + 0.5 + 1e-9);

export function priceMonth(
  input: {
    department: string;
    month: string;
    intervals: ReservationInterval[];
    /** Requests answered by service and UTC day (monitoring's counts). */
    requests?: { serviceId: string; day: string; count: number }[];
    /** Seconds of staging that made a droplet, by service and UTC day of its end (src/build). */
    staging?: { serviceId: string; day: string; seconds: number }[];
    rates: Rate[];
    serviceName: (id: string) => string;
  },
  now = new Date(),
): Statement {
  const { start, end: monthEnd } = monthBounds(input.month);
  const end = new Date(Math.min(monthEnd.getTime(), Math.max(start.getTime(), now.getTime())));
  const lines = new Map<string, StatementLine & { exact: number; exactQty: number }>();
  let unpriced = 0;
  for (const resource of Object.keys(per) as (keyof typeof per)[]) {
    const rates = input.rates.filter((r) => r.resource === resource);
    const periods = rates.map((r, i) => ({
      rate: r,
      from: Date.parse(`${r.validFrom}T00:00:00Z`),
      to: rates[i + 1] ? Date.parse(`${rates[i + 1]?.validFrom}T00:00:00Z`) : Number.POSITIVE_INFINITY,
    }));
    for (const iv of input.intervals) {
      const units = per[resource](iv);
      if (units <= 0) continue;
      const a = Math.max(iv.from.getTime(), start.getTime());
      const b = Math.min(iv.to?.getTime() ?? Number.POSITIVE_INFINITY, end.getTime());
      if (b <= a) continue;
      let covered = 0;
      for (const p of periods) {
        const from = Math.max(a, p.from);
        const to = Math.min(b, p.to);
        if (to <= from) continue;
        covered += to - from;
        const service = input.serviceName(iv.serviceId);
        const key = `${service}\u0000${resource}\u0000${p.rate.validFrom}`;
        const qty = (units * (to - from)) / HOUR;
        const line = lines.get(key) ?? {
          service,
          resource,
          rateFrom: p.rate.validFrom,
          centsPerUnit: p.rate.centsPerUnit,
          quantity: 0,
          amountCents: 0,
          exact: 0,
          exactQty: 0,
        };
        line.exactQty += qty;
        line.exact += qty * p.rate.centsPerUnit;
        lines.set(key, line);
      }
      unpriced += (b - a - covered) / HOUR;
    }
  }
  // Requests and staging: each day's quantity at the rate of that day (rates start at a day).
  // Both are the month's up to `now` already (liveStatement asks for no more).
  const daily = (
    resource: 'request-thousand' | 'staging-minute',
    usage: { serviceId: string; day: string; units: number }[],
  ) => {
    const dayRates = input.rates.filter((r) => r.resource === resource);
    for (const u of usage) {
      if (u.units <= 0) continue;
      const rate = dayRates.filter((x) => x.validFrom <= u.day).at(-1);
      if (!rate) continue; // no rate yet: not charged (not hours: not in unpricedHours)
      const service = input.serviceName(u.serviceId);
      const key = `${service}\u0000${resource}\u0000${rate.validFrom}`;
      const line = lines.get(key) ?? {
        service,
        resource,
        rateFrom: rate.validFrom,
        centsPerUnit: rate.centsPerUnit,
        quantity: 0,
        amountCents: 0,
        exact: 0,
        exactQty: 0,
      };
      line.exactQty += u.units;
      line.exact += u.units * rate.centsPerUnit;
      lines.set(key, line);
    }
  };
  daily(
    'request-thousand',
    (input.requests ?? []).map((r) => ({ serviceId: r.serviceId, day: r.day, units: r.count / 1000 })),
  );
  daily(
    'staging-minute',
    (input.staging ?? []).map((r) => ({ serviceId: r.serviceId, day: r.day, units: r.seconds / 60 })),
  );
  const out = [...lines.values()]
    .map(({ exact, exactQty, ...l }) => ({
      ...l,
      quantity: Math.round(exactQty * 1000) / 1000,
      amountCents: cents(exact),
    }))
    .sort(
      (x, y) =>
        x.service.localeCompare(y.service) ||
        x.resource.localeCompare(y.resource) ||
        x.rateFrom.localeCompare(y.rateFrom),
    );
  return {
    department: input.department,
    month: input.month,
    partial: end.getTime() < monthEnd.getTime(),
    pricedTo: end.toISOString(),
    lines: out,
    unpricedHours: Math.round(unpriced * 1000) / 1000,
    adjustments: [],
    closed: false,
    closedAt: null,
    totalCents: out.reduce((s, l) => s + l.amountCents, 0),
  };
}

/** The download's name: the department and month, nothing a header could be broken with. */
export const statementCsvFilename = (s: Statement) =>
  `govhost-statement-${s.department.replace(/[^A-Za-z0-9]/g, '')}-${s.month}.csv`;

/** The statement as CSV (RFC 4180), one line per service, resource and rate, amounts in cents. */
export function statementCsv(s: Statement): string {
  const head = 'department,month,service,resource,rate_from,cents_per_unit,quantity,amount_cents';
  const lines = s.lines.map((l) =>
    [
      csvField(s.department, true),
      s.month,
      csvField(l.service, true),
      l.resource,
      l.rateFrom,
      csvField(l.centsPerUnit),
      csvField(l.quantity),
      csvField(l.amountCents),
    ].join(','),
  );
  const total = [csvField(s.department, true), s.month, 'total', '', '', '', '', csvField(s.totalCents)].join(
    ',',
  );
  const adjustments = s.adjustments.map((a) =>
    [
      csvField(s.department, true),
      s.month,
      csvField(`adjustment${a.forMonth ? ` for ${a.forMonth}` : ''}: ${a.reason}`, true),
      '',
      '',
      '',
      '',
      csvField(a.amountCents),
    ].join(','),
  );
  return [head, ...lines, ...adjustments, total].map((l) => `${l}\r\n`).join('');
}
