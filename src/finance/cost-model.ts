import { csvField } from '../monitoring/sla.csv.ts';

/**
 * The cost model of a business case and the annex it adds up to: costs (non-recurring and
 * recurring, each expenditure and staff), savings (one-off avoidable, recurring realisable), net
 * and cumulative net savings by financial year. Amounts are integer HK$ thousands, as the paper
 * prints them; a contingency rate is rounded half up to the thousand (decision 038).
 */

/** One amount per financial year of the model, in HK$ thousands. */
export type ByYear = number[];

/** Contingency: amounts by year as printed, or a rate (0.1 = 10%) on the year's items (a) to (c). */
export type Contingency = { amounts: ByYear } | { rate: number };

export interface CostModel {
  /** Financial years, April to March, written `2011-12`. */
  years: string[];
  nonRecurring: {
    hardwareSoftware: ByYear;
    systemDevelopment: ByYear;
    implementation: ByYear;
    contingency: Contingency;
    staff: ByYear;
  };
  recurring: { maintenance: ByYear; support: ByYear; staff: ByYear };
  savings: { oneOffAvoidable: ByYear; recurringRealisable: ByYear };
}

export type AnnexSection = 'costs' | 'savings' | 'net';

export interface AnnexRow {
  key: string;
  section: AnnexSection;
  labelEn: string;
  labelZh: string;
  /** A subtotal or total line, printed in bold in the paper. */
  sum: boolean;
  byYear: number[];
  /** The row's total over the years; the paper prints none for cumulative net savings. */
  total: number | null;
}

export interface BusinessCase {
  years: string[];
  unit: 'HK$ thousands';
  /** The annex, row by row, in the paper's order. */
  annex: AnnexRow[];
  /** What the annex sums: paragraph 15's items (a) to (d) and paragraph 21's (a) and (b). */
  detail: AnnexRow[];
  totals: { cost: number; savings: number; net: number };
}

const add = (...rows: ByYear[]): number[] =>
  rows[0]?.map((_, i) => rows.reduce((s, r) => s + (r[i] ?? 0), 0)) ?? [];
const minus = (a: ByYear, b: ByYear): number[] => a.map((v, i) => v - (b[i] ?? 0));
const total = (r: ByYear) => r.reduce((s, v) => s + v, 0);
const cumulative = (r: ByYear) => {
  let run = 0;
  return r.map((v) => {
    run += v;
    return run;
  });
};

/** A contingency's amounts by year: a rate is applied to (a)+(b)+(c), rounded half up to HK$1,000. */
export function contingencyAmounts(model: CostModel): number[] {
  const c = model.nonRecurring.contingency;
  if ('amounts' in c) return [...c.amounts];
  const base = add(
    model.nonRecurring.hardwareSoftware,
    model.nonRecurring.systemDevelopment,
    model.nonRecurring.implementation,
  );
  // Integer thousands times a rate: round the product, never a running sum, so each year stands alone.
  return base.map((v) => Math.round(v * c.rate + 1e-9));
}

type Line = [key: string, en: string, zh: string, byYear: ByYear, sum?: boolean];

const rows = (section: AnnexSection, lines: Line[], withTotal = true): AnnexRow[] =>
  lines.map(([key, labelEn, labelZh, byYear, sum]) => ({
    key,
    section,
    labelEn,
    labelZh,
    sum: sum === true,
    byYear: [...byYear],
    total: withTotal ? total(byYear) : null,
  }));

/** Adds a cost model up into the annex of the paper (cost-benefit analysis, cash flow). */
export function businessCase(model: CostModel): BusinessCase {
  const n = model.nonRecurring;
  const r = model.recurring;
  const contingency = contingencyAmounts(model);
  const nonRecurringSpend = add(n.hardwareSoftware, n.systemDevelopment, n.implementation, contingency);
  const nonRecurring = add(nonRecurringSpend, n.staff);
  const recurringSpend = add(r.maintenance, r.support);
  const recurring = add(recurringSpend, r.staff);
  const cost = add(nonRecurring, recurring);
  const savings = add(model.savings.oneOffAvoidable, model.savings.recurringRealisable);
  const net = minus(savings, cost);

  const annex = [
    ...rows('costs', [
      ['nonRecurring.expenditure', 'Non-recurring: expenditure', '非經常：開支', nonRecurringSpend],
      ['nonRecurring.staff', 'Non-recurring: staff cost', '非經常：員工開支', n.staff],
      ['nonRecurring.subtotal', 'Non-recurring subtotal', '小計', nonRecurring, true],
      ['recurring.expenditure', 'Recurring: expenditure', '經常：開支', recurringSpend],
      ['recurring.staff', 'Recurring: staff cost', '經常：員工開支', r.staff],
      ['recurring.subtotal', 'Recurring subtotal', '小計', recurring, true],
      ['cost.total', 'Total cost', '費用總額', cost, true],
    ]),
    ...rows('savings', [
      [
        'savings.oneOffAvoidable',
        'Non-recurring: avoidable expenditure',
        '非經常：可減免的開支',
        model.savings.oneOffAvoidable,
      ],
      [
        'savings.recurringRealisable',
        'Recurring: realisable savings',
        '經常：可變現的節省款額',
        model.savings.recurringRealisable,
      ],
      ['savings.total', 'Total savings', '節省總額', savings, true],
    ]),
    ...rows('net', [['net', 'Net savings', '節省淨額', net, true]]),
    ...rows(
      'net',
      [['net.cumulative', 'Cumulative net savings', '累計節省淨額', cumulative(net), true]],
      false,
    ),
  ];
  const detail = rows('costs', [
    ['nonRecurring.hardwareSoftware', '(a) Hardware and software', '(a) 硬件和軟件', n.hardwareSoftware],
    [
      'nonRecurring.systemDevelopment',
      '(b) System development and operation services',
      '(b) 系統開發和運作服務',
      n.systemDevelopment,
    ],
    ['nonRecurring.implementation', '(c) Implementation services', '(c) 系統推行服務', n.implementation],
    ['nonRecurring.contingency', '(d) Contingency', '(d) 應急費用', contingency],
    ['recurring.maintenance', 'Hardware and software maintenance', '硬件和軟件的維修保養', r.maintenance],
    ['recurring.support', 'Day-to-day professional support services', '日常的專業支援服務', r.support],
  ]);
  return {
    years: [...model.years],
    unit: 'HK$ thousands',
    annex,
    detail,
    totals: { cost: total(cost), savings: total(savings), net: total(net) },
  };
}

/** The annex as CSV (RFC 4180): a row's key and English label, then its years and total. */
export function businessCaseCsv(bc: BusinessCase): string {
  const head = ['row', 'label', ...bc.years, 'total'].join(',');
  const lines = bc.annex.map((r) =>
    [
      csvField(r.key, true),
      csvField(r.labelEn, true),
      ...r.byYear.map((v) => csvField(v)),
      csvField(r.total),
    ].join(','),
  );
  return [head, ...lines].map((line) => `${line}\r\n`).join('');
}
