import { createSecureContext } from 'node:tls';
import type { Cutover } from './route-table.ts';

// An origin only: scheme, host and optional port; no credentials, path, query or fragment.
const LEGACY_URL = /^(https?):\/\/(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?)(?::(\d{1,5}))?\/?$/i;
// A Host header value: a name or address, with an optional port.
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?)(:\d{1,5})?$/i;
// A path prefix as the request line carries it: no query, fragment, space or control byte.
const PATH_PREFIX = /^\/[\x21-\x7e]{0,199}$/;
const MAX_PATHS = 100;
const MAX_PEM = 64 * 1024;

/**
 * The legacy origin of a cut-over, split: `{ tls, host, port }` (brackets kept off an IPv6
 * address), or null when `url` is not an origin the router can connect to.
 * @example legacyOrigin('https://egis.gov.hk') // { tls: true, host: 'egis.gov.hk', port: 443 }
 */
export function legacyOrigin(url: string): { tls: boolean; host: string; port: number } | null {
  const m = LEGACY_URL.exec(url);
  if (!m) return null;
  const tls = m[1]!.toLowerCase() === 'https';
  const port = m[4] === undefined ? (tls ? 443 : 80) : Number(m[4]);
  if (port < 1 || port > 65535) return null;
  return { tls, host: m[2]!.replace(/^\[|\]$/g, '').toLowerCase(), port };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const KNOWN = ['legacyUrl', 'legacyHost', 'legacyCa', 'percent', 'newPaths', 'sticky'];

/** Checks a route's `cutover` field; pushes one line per problem onto `errors`. */
export function parseCutover(raw: unknown, where: string, errors: string[]): Cutover | null {
  if (!isRecord(raw)) {
    errors.push(`${where}: must be an object with legacyUrl and percent`);
    return null;
  }
  const before = errors.length;
  for (const k of Object.keys(raw)) if (!KNOWN.includes(k)) errors.push(`${where}: unknown field "${k}"`);
  const { legacyUrl, legacyHost, legacyCa, percent, newPaths, sticky } = raw;
  const origin = typeof legacyUrl === 'string' ? legacyOrigin(legacyUrl) : null;
  if (!origin) {
    errors.push(
      `${where}.legacyUrl: must be http(s)://host[:port] with no path, got ${JSON.stringify(legacyUrl)}`,
    );
  }
  if (legacyHost !== undefined && (typeof legacyHost !== 'string' || !HOST_HEADER.test(legacyHost))) {
    errors.push(
      `${where}.legacyHost: must be a host name with an optional port, got ${JSON.stringify(legacyHost)}`,
    );
  }
  if (legacyCa !== undefined) {
    if (
      typeof legacyCa !== 'string' ||
      !legacyCa.includes('-----BEGIN CERTIFICATE-----') ||
      legacyCa.length > MAX_PEM
    ) {
      errors.push(`${where}.legacyCa: must be PEM certificates of at most ${MAX_PEM} characters`);
    } else if (origin && !origin.tls) {
      errors.push(`${where}.legacyCa: only an https legacyUrl uses a CA`);
    } else {
      try {
        createSecureContext({ ca: legacyCa });
      } catch (err) {
        errors.push(`${where}.legacyCa: not readable as PEM certificates (${(err as Error).message})`);
      }
    }
  }
  if (typeof percent !== 'number' || !Number.isInteger(percent) || percent < 0 || percent > 100) {
    errors.push(`${where}.percent: must be a whole number from 0 to 100, got ${JSON.stringify(percent)}`);
  }
  if (newPaths !== undefined) {
    if (!Array.isArray(newPaths) || newPaths.length > MAX_PATHS) {
      errors.push(`${where}.newPaths: must be an array of at most ${MAX_PATHS} path prefixes`);
    } else {
      newPaths.forEach((p, i) => {
        if (typeof p !== 'string' || !PATH_PREFIX.test(p) || p.includes('?') || p.includes('#')) {
          errors.push(
            `${where}.newPaths[${i}]: must be a path starting with / (no query), got ${JSON.stringify(p)}`,
          );
        }
      });
    }
  }
  if (sticky !== undefined && typeof sticky !== 'boolean')
    errors.push(`${where}.sticky: must be true or false`);
  if (errors.length > before) return null;
  const cutover: Cutover = { legacyUrl: legacyUrl as string, percent: percent as number };
  if (legacyHost !== undefined) cutover.legacyHost = legacyHost as string;
  if (legacyCa !== undefined) cutover.legacyCa = legacyCa as string;
  if (newPaths !== undefined) cutover.newPaths = newPaths as string[];
  if (sticky === true) cutover.sticky = true;
  return cutover;
}
