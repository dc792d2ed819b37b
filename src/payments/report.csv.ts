import { serviceSlugs } from '../catalog/service.logic.ts';
import { csvField } from '../monitoring/sla.csv.ts';
import type { Db } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { departmentCodes } from '../tenancy/department.logic.ts';
import type { Principal } from '../tenancy/principal.ts';
import { type SummaryQuery, windowOf } from './summary.logic.ts';
import * as repo from './summary.repository.ts';

/** More lines than a spreadsheet comfortably opens: a shorter period is the answer. */
export const MAX_REPORT_ROWS = 100_000;

const HEADER = [
  'record',
  'department',
  'service',
  'mode',
  'payment_id',
  'refund_id',
  'reference',
  'state',
  'amount',
  'refunded',
  'created_at',
  'updated_at',
];

/**
 * The payments and refunds made in a period, as CSV (RFC 4180, CRLF, a header row): one line per
 * payment and one per refund (with its payment's reference), oldest first, amounts in HK cents.
 * Nothing a citizen typed at the provider is in the platform to put here; the description and
 * metadata a service keeps with a payment are left out too. The reference is the service's own
 * text, so it is quoted when needed and defused when a spreadsheet would run it as a formula.
 */
export async function paymentsReportCsv(
  db: Db,
  caller: Principal,
  q: SummaryQuery,
): Promise<{ csv: string; filename: string }> {
  const { window, from, to } = await windowOf(db, caller, q, 'day');
  const [payments, refunds] = await Promise.all([
    repo.paymentRows(db, window, MAX_REPORT_ROWS + 1),
    repo.refundRows(db, window, MAX_REPORT_ROWS + 1),
  ]);
  if (payments.length + refunds.length > MAX_REPORT_ROWS)
    throw new DomainError(
      'GOVHOST_VALIDATION',
      `the period holds more than ${MAX_REPORT_ROWS} payments and refunds: ask for a shorter one`,
    );
  const rows = [...payments, ...refunds];
  const [codes, slugs] = await Promise.all([
    departmentCodes(
      db,
      rows.map((r) => r.department_id),
    ),
    serviceSlugs(
      db,
      rows.map((r) => r.service_id),
    ),
  ]);
  const where = (r: { department_id: string; service_id: string; mode: string }) => [
    csvField(codes.get(r.department_id) ?? r.department_id, true),
    csvField(slugs.get(r.service_id) ?? r.service_id, true),
    csvField(r.mode),
  ];
  const lines = [
    ...payments.map((p) => ({
      at: p.created_at,
      line: [
        'payment',
        ...where(p),
        p.id,
        '',
        csvField(p.reference, true),
        p.state,
        csvField(Number(p.amount)),
        csvField(Number(p.refunded)),
        p.created_at.toISOString(),
        p.updated_at.toISOString(),
      ],
    })),
    ...refunds.map((r) => ({
      at: r.created_at,
      line: [
        'refund',
        ...where(r),
        r.payment_id,
        r.id,
        csvField(r.reference, true),
        r.state,
        csvField(Number(r.amount)),
        '',
        r.created_at.toISOString(),
        r.updated_at.toISOString(),
      ],
    })),
  ].sort((a, b) => a.at.getTime() - b.at.getTime());
  const scope = [q.department?.toUpperCase(), q.service].filter(Boolean).join('-');
  return {
    csv: [HEADER, ...lines.map((l) => l.line)].map((l) => `${l.join(',')}\r\n`).join(''),
    filename: `payments${scope ? `-${scope}` : ''}-${from}-to-${to}.csv`,
  };
}
