// What the CLI prints comes partly from others (a service's name, a log line, a server's error): a
// control character in it could move the cursor, rewrite what the admin sees, set the window
// title or worse. C0 controls, DEL and C1 (0x80-0x9f: a single-byte CSI among them) are shown as
// `\xNN`; escaping ESC also defuses every escape sequence it would start.
const hex = (c: string) => `\\x${(c.codePointAt(0) ?? 0).toString(16).padStart(2, '0')}`;

/** Text for one table cell or value: every control character escaped, line breaks and tabs too. */
export const printableCell = (text: string): string => text.replace(/\p{Cc}/gu, hex);

/**
 * Text for the terminal: controls escaped, except line feeds, tabs and a carriage return that
 * ends a line (CRLF, as in CSV); a bare carriage return would let text overwrite its own line.
 */
export const printable = (text: string): string => text.replace(/\r(?!\n)|[^\P{Cc}\t\n\r]/gu, hex);

/**
 * JSON for scripts: JSON.stringify escapes C0 in strings itself but leaves DEL and C1 raw; the
 * only raw control left to keep is the line feed of its indentation.
 */
export const jsonText = (data: unknown): string =>
  JSON.stringify(data, null, 2).replace(
    /[^\P{Cc}\n]/gu,
    (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`,
  );

type Write = typeof process.stdout.write;
const rawWrites = new Map<NodeJS.WriteStream, Write>();

/**
 * Makes every write to stdout and stderr go through `printable`, once, at the start of the CLI:
 * the one place that escapes, so no command can forget it. Only `redraw` draws in place.
 */
export function guardTerminal(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (rawWrites.has(stream)) continue;
    const write = stream.write.bind(stream) as Write;
    rawWrites.set(stream, write);
    // biome-ignore lint/suspicious/noExplicitAny: write's overloads (chunk, encoding?, callback?) pass through unchanged
    stream.write = ((chunk: string | Uint8Array, ...rest: any[]) =>
      write(
        printable(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')),
        ...rest,
      )) as Write;
  }
}

/** Redraws the current line of stderr (a progress bar): the only carriage return the CLI prints itself. */
export function redraw(line: string, end = ''): void {
  const write = rawWrites.get(process.stderr) ?? process.stderr.write.bind(process.stderr);
  write(`\r${printable(line)}${end}`);
}

/** Prints one line to stderr and exits: every CLI error ends here, never in a stack trace. */
export function fail(message: string, exitCode = 1): never {
  process.stderr.write(`govhost: ${message}\n`);
  process.exit(exitCode);
}

export type Column<T> = [header: string, value: (row: T) => unknown];

function cell(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (Array.isArray(v)) return printableCell(v.join(','));
  return printableCell(String(v));
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
