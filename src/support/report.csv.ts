import { csvField } from '../monitoring/sla.csv.ts';
import type { SupportReport } from './report.logic.ts';

/**
 * The monthly support report as CSV, with the SLA report's habits (RFC 4180, CRLF, no BOM, text
 * that a spreadsheet would run as a formula defused): the API's export and the CLI's `--csv` agree.
 */
const HEADER = [
  'department',
  'priority',
  'tickets',
  'responded',
  'response_median_minutes',
  'response_breaches',
  'resolved',
  'resolution_median_minutes',
  'resolution_breaches',
];

export function supportCsv(report: SupportReport): string {
  const rows = report.lines.map((l) =>
    [
      csvField(l.department, true),
      csvField(l.priority, true),
      csvField(l.tickets),
      csvField(l.responded),
      csvField(l.responseMedianMinutes),
      csvField(l.responseBreaches),
      csvField(l.resolved),
      csvField(l.resolutionMedianMinutes),
      csvField(l.resolutionBreaches),
    ].join(','),
  );
  return [HEADER.join(','), ...rows].map((line) => `${line}\r\n`).join('');
}

export const supportCsvFilename = (month: string) => `support-${month}.csv`;
