import { isAbsolute } from 'node:path';
import { parseCutover } from './cutover-validate.ts';
import type { AcmeChallenge, Backend, Route, RouteTable, TableCertificate } from './route-table.ts';
import { checkCertificate } from './tls-certs.ts';

/** What `parseRouteTable` found wrong, one line per problem, each naming where it is. */
export type ParseResult = { ok: true; table: RouteTable } | { ok: false; errors: string[] };

// A lower-case DNS name without port; `localhost` and multi-label names alike.
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
// The router only forwards to plain-HTTP origins (`http://host:port`), no path, no credentials.
const BACKEND_URL = /^http:\/\/(\[[0-9a-f:.]+\]|[a-z0-9.-]+):(\d{1,5})\/?$/i;

// Enough for every service of the platform many times over; stops a runaway caller early.
const MAX_ROUTES = 20_000;
const MAX_BACKENDS = 1_000;
const MAX_CERTIFICATES = 10_000;
const MAX_CHALLENGES = 10_000;
// RFC 8555 §8.1 and §8.3: a token is base64url, the key authorization the token, a dot and a
// base64url thumbprint. Only the charset is the router's business (the token becomes a path
// segment it compares); its entropy is the CA's.
const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;
const THUMBPRINT = /^[A-Za-z0-9_-]{1,128}$/;
// A chain of a leaf and a few intermediates is a few KiB; far larger is not a certificate.
const MAX_PEM = 64 * 1024;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function unknownKeys(obj: Record<string, unknown>, known: string[], where: string, errors: string[]): void {
  for (const k of Object.keys(obj)) {
    if (!known.includes(k)) errors.push(`${where}: unknown field "${k}"`);
  }
}

function parseBackend(raw: unknown, where: string, errors: string[]): Backend | null {
  if (!isRecord(raw)) {
    errors.push(`${where}: must be an object with id and url`);
    return null;
  }
  unknownKeys(raw, ['id', 'url'], where, errors);
  const { id, url } = raw;
  let ok = true;
  if (typeof id !== 'string' || id.length === 0 || id.length > 200) {
    errors.push(`${where}.id: must be a non-empty string of at most 200 characters`);
    ok = false;
  }
  const m = typeof url === 'string' ? BACKEND_URL.exec(url) : null;
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
    errors.push(`${where}.url: must be http://host:port (port 1-65535, no path), got ${JSON.stringify(url)}`);
    ok = false;
  }
  return ok ? { id: id as string, url: url as string } : null;
}

function parseRoute(raw: unknown, where: string, errors: string[]): Route | null {
  if (!isRecord(raw)) {
    errors.push(`${where}: must be an object`);
    return null;
  }
  unknownKeys(
    raw,
    ['hostname', 'service', 'kind', 'backends', 'staticRoot', 'httpsRedirect', 'hsts', 'cutover', 'platform'],
    where,
    errors,
  );
  const before = errors.length;
  const { hostname, service, kind, backends, staticRoot, httpsRedirect, hsts, cutover, platform } = raw;
  for (const [name, v] of [
    ['httpsRedirect', httpsRedirect],
    ['hsts', hsts],
    ['platform', platform],
  ] as const) {
    if (v !== undefined && typeof v !== 'boolean') errors.push(`${where}.${name}: must be true or false`);
  }
  if (typeof hostname !== 'string' || !HOSTNAME.test(hostname)) {
    errors.push(
      `${where}.hostname: must be a lower-case host name without port, got ${JSON.stringify(hostname)}`,
    );
  }
  if (typeof service !== 'string' || service.length === 0 || service.length > 200) {
    errors.push(`${where}.service: must be a non-empty string such as "IRD/etax"`);
  }
  if (kind !== 'proxy' && kind !== 'static') {
    errors.push(`${where}.kind: must be "proxy" or "static", got ${JSON.stringify(kind)}`);
  }
  const parsedBackends: Backend[] = [];
  if (!Array.isArray(backends) || backends.length > MAX_BACKENDS) {
    errors.push(`${where}.backends: must be an array of at most ${MAX_BACKENDS} backends`);
  } else {
    const ids = new Set<string>();
    backends.forEach((b, i) => {
      const parsed = parseBackend(b, `${where}.backends[${i}]`, errors);
      if (!parsed) return;
      // Ids name instances in /inflight and drains, so two backends may not share one.
      if (ids.has(parsed.id)) errors.push(`${where}.backends[${i}].id: duplicate id "${parsed.id}"`);
      ids.add(parsed.id);
      parsedBackends.push(parsed);
    });
  }
  if (kind === 'static' && (typeof staticRoot !== 'string' || !isAbsolute(staticRoot))) {
    errors.push(`${where}.staticRoot: a static route needs an absolute folder path`);
  }
  if (staticRoot !== undefined && kind !== 'static') {
    errors.push(`${where}.staticRoot: only a static route may have one`);
  }
  const parsedCutover = cutover === undefined ? null : parseCutover(cutover, `${where}.cutover`, errors);
  if (errors.length > before) return null;
  const route: Route = {
    hostname: hostname as string,
    service: service as string,
    kind: kind as Route['kind'],
    backends: parsedBackends,
  };
  if (kind === 'static') route.staticRoot = staticRoot as string;
  if (httpsRedirect === false) route.httpsRedirect = false;
  if (hsts === false) route.hsts = false;
  if (platform === true) route.platform = true;
  if (parsedCutover) route.cutover = parsedCutover;
  return route;
}

/**
 * A certificate of the table: readable, its key the leaf's, its chain signed link by link. Its
 * dates are not checked here (see tls-certs.ts): an expired one is skipped when served.
 */
function parseCertificate(raw: unknown, where: string, errors: string[]): TableCertificate | null {
  if (!isRecord(raw)) {
    errors.push(`${where}: must be an object with id, chain and key`);
    return null;
  }
  unknownKeys(raw, ['id', 'chain', 'key'], where, errors);
  const { id, chain, key } = raw;
  const before = errors.length;
  if (typeof id !== 'string' || id.length === 0 || id.length > 200)
    errors.push(`${where}.id: must be a non-empty string of at most 200 characters`);
  for (const [name, v] of [
    ['chain', chain],
    ['key', key],
  ] as const) {
    if (typeof v !== 'string' || v.length === 0 || v.length > MAX_PEM)
      errors.push(`${where}.${name}: must be PEM text of at most ${MAX_PEM} characters`);
  }
  if (errors.length > before) return null;
  const check = checkCertificate(chain as string, key as string, null);
  if (!check.ok) {
    // Named by its id too: the operator knows the certificate by it, not by its place in the table.
    errors.push(`${where} (id ${JSON.stringify(id)}): ${check.reason}`);
    return null;
  }
  return { id: id as string, chain: chain as string, key: key as string };
}

/** An ACME HTTP-01 challenge: a base64url token and `<token>.<thumbprint>`. */
function parseChallenge(raw: unknown, where: string, errors: string[]): AcmeChallenge | null {
  if (!isRecord(raw)) {
    errors.push(`${where}: must be an object with token and keyAuthorization`);
    return null;
  }
  unknownKeys(raw, ['token', 'keyAuthorization'], where, errors);
  const { token, keyAuthorization } = raw;
  if (typeof token !== 'string' || !TOKEN.test(token)) {
    errors.push(`${where}.token: must be 1-256 base64url characters (A-Z a-z 0-9 - _)`);
    return null;
  }
  if (
    typeof keyAuthorization !== 'string' ||
    !keyAuthorization.startsWith(`${token}.`) ||
    !THUMBPRINT.test(keyAuthorization.slice(token.length + 1))
  ) {
    errors.push(`${where}.keyAuthorization: must be the token, a dot and a base64url thumbprint`);
    return null;
  }
  return { token, keyAuthorization };
}

/**
 * Checks an untrusted value (a PUT body, the state file) against the RouteTable contract and
 * returns a clean copy, or every problem found so the caller can fix them all at once.
 * @example parseRouteTable(JSON.parse(body))
 */
export function parseRouteTable(raw: unknown): ParseResult {
  const errors: string[] = [];
  if (!isRecord(raw)) return { ok: false, errors: ['body: must be a JSON object with version and routes'] };
  unknownKeys(raw, ['version', 'routes', 'certificates', 'acmeChallenges'], 'table', errors);
  const { version, routes, certificates, acmeChallenges } = raw;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) {
    errors.push(`version: must be a whole number >= 0, got ${JSON.stringify(version)}`);
  }
  const parsed: Route[] = [];
  if (!Array.isArray(routes) || routes.length > MAX_ROUTES) {
    errors.push(`routes: must be an array of at most ${MAX_ROUTES} routes`);
  } else {
    const hosts = new Set<string>();
    routes.forEach((r, i) => {
      const route = parseRoute(r, `routes[${i}]`, errors);
      if (!route) return;
      // One host has one route: two would make routing depend on the table's order.
      if (hosts.has(route.hostname)) errors.push(`routes[${i}].hostname: duplicate "${route.hostname}"`);
      hosts.add(route.hostname);
      parsed.push(route);
    });
  }
  // One instance may serve several host names, but an id always names the same address.
  const urls = new Map<string, string>();
  for (const route of parsed) {
    for (const b of route.backends) {
      const seen = urls.get(b.id);
      if (seen !== undefined && seen !== b.url) {
        errors.push(`backend id "${b.id}" has two addresses: ${seen} and ${b.url}`);
      }
      urls.set(b.id, b.url);
    }
  }
  const certs: TableCertificate[] = [];
  if (certificates !== undefined) {
    if (!Array.isArray(certificates) || certificates.length > MAX_CERTIFICATES) {
      errors.push(`certificates: must be an array of at most ${MAX_CERTIFICATES} certificates`);
    } else {
      certificates.forEach((c, i) => {
        const cert = parseCertificate(c, `certificates[${i}]`, errors);
        if (cert) certs.push(cert);
      });
    }
  }
  const challenges: AcmeChallenge[] = [];
  if (acmeChallenges !== undefined) {
    if (!Array.isArray(acmeChallenges) || acmeChallenges.length > MAX_CHALLENGES) {
      errors.push(`acmeChallenges: must be an array of at most ${MAX_CHALLENGES} challenges`);
    } else {
      const tokens = new Set<string>();
      acmeChallenges.forEach((c, i) => {
        const challenge = parseChallenge(c, `acmeChallenges[${i}]`, errors);
        if (!challenge) return;
        if (tokens.has(challenge.token))
          errors.push(`acmeChallenges[${i}].token: ${challenge.token} is listed twice`);
        tokens.add(challenge.token);
        challenges.push(challenge);
      });
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  const table: RouteTable = { version: version as number, routes: parsed };
  // Left out when empty, so that a table without certificates reads back as it was sent.
  if (certificates !== undefined) table.certificates = certs;
  if (acmeChallenges !== undefined) table.acmeChallenges = challenges;
  return { ok: true, table };
}
