import type { SlaReport } from './sla.logic.ts';

/**
 * The SLA report as CSV (RFC 4180): a header row, one row per service, CRLF line ends, fields
 * quoted when they hold a comma, a quote or a line break. No byte-order mark. The server's
 * export and `govhost report sla --csv` both use this, so they give the same file.
 */

const HEADER = [
  'department',
  'service',
  'name',
  'lifecycle',
  'tier',
  'target_percent',
  'eligible_minutes',
  'downtime_minutes',
  'maintenance_minutes',
  'availability_percent',
  'met',
  'outages',
  'incidents',
];

/**
 * One field. A text starting with = + - @ or a tab is what spreadsheets run as a formula: a
 * service name is written by a department, so it is defused with a leading apostrophe.
 */
export function csvField(value: string | number | null, text = false): string {
  if (value === null) return '';
  let s = String(value);
  if (text && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function slaCsv(report: SlaReport): string {
  const rows = report.services.map((l) =>
    [
      csvField(l.department, true),
      csvField(l.service, true),
      csvField(l.nameEn, true),
      csvField(l.lifecycle, true),
      csvField(l.tier, true),
      csvField(l.target),
      csvField(l.eligibleMinutes),
      csvField(l.downtimeMinutes),
      csvField(l.maintenanceMinutes),
      csvField(l.availability),
      csvField(l.met === null ? null : l.met ? 'yes' : 'no'),
      csvField(l.outages),
      csvField(l.incidents),
    ].join(','),
  );
  return [HEADER.join(','), ...rows].map((line) => `${line}\r\n`).join('');
}

export const csvFilename = (month: string) => `sla-${month}.csv`;
