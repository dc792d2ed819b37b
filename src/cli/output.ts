/** Prints one line to stderr and exits: every CLI error ends here, never in a stack trace. */
export function fail(message: string, exitCode = 1): never {
  process.stderr.write(`govhost: ${message}\n`);
  process.exit(exitCode);
}

export type Column<T> = [header: string, value: (row: T) => unknown];

function cell(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (Array.isArray(v)) return v.join(',');
  return String(v);
}

/** A plain text table with padded columns, for people; scripts use --json. */
export function table<T>(rows: T[], columns: Column<T>[]): string {
  const cells = rows.map((r) => columns.map(([, f]) => cell(f(r))));
  const headers = columns.map(([h]) => h.toUpperCase());
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => [...(c[i] ?? '')].length)));
  const line = (cs: string[]) =>
    cs
      .map((c, i) => c + ' '.repeat(Math.max(0, (widths[i] ?? 0) - [...c].length)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...cells.map(line)].join('\n');
}

/** Key: value lines for one record. */
export function record(pairs: [string, unknown][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${cell(v)}`).join('\n');
}

/** An API time cut to the minute for people: `2025-03-01 09:30Z`. */
export const when = (iso: string | null | undefined): string | null =>
  iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}Z` : null;

/** A yes/no cell for a boolean. */
export const yesNo = (b: boolean): string => (b ? 'yes' : 'no');
