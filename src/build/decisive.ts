/**
 * The lines of a failed build's or app's output that say why it failed (`Cannot find module
 * 'express'`, `npm error 404`, `ModuleNotFoundError`), which are rarely the last ones: npm and pip
 * end with boilerplate ("A complete log of this run…"), and a crash's cause sits above its stack.
 */
const DECISIVE: readonly RegExp[] = [
  /Cannot find module/i,
  /\bnpm (?:ERR!|error) (?:code|404|notarget|\d{3})/i,
  /\bnpm (?:ERR!|error) (?:.*is not in this registry|.*No matching version)/i,
  /ModuleNotFoundError|ImportError:/,
  /ERROR: (?:Could not find a version|No matching distribution|Could not install|Failed building)/,
  /^\s*(?:[A-Za-z]*Error|Exception)(?:\s*\[\w+\])?: /,
  /\berror TS\d+:/,
  /command not found|: not found$/,
  /\b(?:ENOENT|EACCES|EADDRINUSE|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN)\b/,
];

/** Lines kept from the end, when nothing in the output matches a known pattern. */
const TAIL = 5;

/**
 * Up to `max` lines that explain a failure: those matching a known pattern (first ones first, each
 * once), else (with `orLast`) the last few.
 * @example decisiveLines(['npm error code E404', 'npm error 404 Not Found - GET …/nope', 'npm error A complete log…'])
 */
export function decisiveLines(lines: readonly string[], max = 6, orLast = true): string[] {
  const out: string[] = [];
  for (const raw of lines) {
    const line = raw.trimEnd();
    if (line === '' || out.includes(line)) continue;
    if (DECISIVE.some((re) => re.test(line))) out.push(line);
    if (out.length >= max) break;
  }
  if (out.length > 0 || !orLast) return out;
  return lines.filter((l) => l.trim() !== '').slice(-Math.min(TAIL, max));
}
