import { isAbsolute } from 'node:path';
import { parseNetwork } from '../platform/ip.ts';
import type { RequestRecord } from './context.ts';
import type { ControlPlaneSource } from './follow.ts';
import type { Log } from './log.ts';
import { platformKeyFor, probeKeyFor } from './probe-key.ts';

/** Everything `startRouter` can be told; only `adminToken` has no default. */
export interface RouterOptions {
  /** Address of the public listener. */
  host?: string;
  /** Port of the public listener; 0 picks a free one (reported back by startRouter). */
  port?: number;
  /**
   * Port of the HTTPS listener (same address as the public one); 0 picks a free one; null (the
   * default) listens for plain HTTP only. Certificates come with the route table (decision 030).
   */
  httpsPort?: number | null;
  /** The admin API listens on loopback only, whatever the public address is. */
  adminHost?: string;
  adminPort?: number;
  /** Shared secret the control plane sends as `Authorization: Bearer …`. */
  adminToken: string;
  /** File holding the last route table; null keeps it in memory only (tests). */
  statePath?: string | null;
  /**
   * Base64 of the 32-byte key sealing certificate keys in the state file; null: `<statePath>.key`,
   * made when the first certificate is stored (mode 0600).
   */
  stateKey?: string | null;
  /** Largest request body forwarded, in bytes. */
  bodyLimit?: number;
  connectTimeoutMs?: number;
  upstreamTimeoutMs?: number;
  clientIdleTimeoutMs?: number;
  /** How long a backend that failed a connection is skipped. */
  passiveDownMs?: number;
  maxSocketsPerBackend?: number;
  /**
   * Addresses and CIDR networks of load balancers in front of the router, whose X-Forwarded-*,
   * Forwarded and X-Real-IP headers are extended rather than replaced (see headers.ts).
   */
  trustedProxies?: readonly string[];
  /** How long shutdown waits for requests in flight. */
  shutdownGraceMs?: number;
  /** Proxy worker processes (node:cluster); 0 runs the proxy in this process. */
  workers?: number;
  /** Follow the control plane's route table over HTTP(S) (decision 023); null: pushes only. */
  controlPlane?: ControlPlaneSource | null;
  log?: Log;
  /** Told of every request the router read and answered (in-process routers only: access logs, tests). */
  onRequest?: (r: RequestRecord) => void;
}

export type ResolvedOptions = Required<Omit<RouterOptions, 'log' | 'onRequest'>> & {
  /** What the platform's probes carry so that they are counted apart (see probe-key.ts). */
  probeKey: string;
  /** What the router adds to requests for the platform's own routes (see probe-key.ts). */
  platformKey: string;
};

export const ROUTER_DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  httpsPort: null as number | null,
  stateKey: null as string | null,
  adminHost: '127.0.0.1',
  adminPort: 8081,
  controlPlane: null as ControlPlaneSource | null,
  statePath: null,
  bodyLimit: 10 * 1024 * 1024,
  connectTimeoutMs: 5_000,
  upstreamTimeoutMs: 60_000,
  // Above the 60 s idle timeout of common load balancers, so they, not we, close idle sockets.
  clientIdleTimeoutMs: 65_000,
  passiveDownMs: 5_000,
  maxSocketsPerBackend: 1024,
  trustedProxies: [],
  shutdownGraceMs: 30_000,
  workers: 0,
} as const satisfies Omit<ResolvedOptions, 'adminToken' | 'probeKey' | 'platformKey'>;

/** Fills defaults and rejects values that would make the router misbehave rather than fail. */
export function resolveOptions(opts: RouterOptions): ResolvedOptions {
  const o = { ...ROUTER_DEFAULTS, ...stripUndefined(opts) } as ResolvedOptions;
  const problems: string[] = [];
  if (typeof o.adminToken !== 'string' || o.adminToken.length < 16) {
    problems.push('adminToken must be a string of at least 16 characters');
  }
  for (const k of ['bodyLimit', 'connectTimeoutMs', 'upstreamTimeoutMs', 'clientIdleTimeoutMs'] as const) {
    if (!Number.isSafeInteger(o[k]) || o[k] <= 0) problems.push(`${k} must be a positive whole number`);
  }
  if (o.httpsPort !== null && (!Number.isInteger(o.httpsPort) || o.httpsPort < 0 || o.httpsPort > 65535))
    problems.push('httpsPort must be 0-65535 or null');
  if (!Number.isInteger(o.workers) || o.workers < 0 || o.workers > 64) problems.push('workers must be 0-64');
  if (o.stateKey !== null && Buffer.from(o.stateKey, 'base64').length !== 32)
    problems.push('stateKey must be the base64 encoding of 32 random bytes');
  for (const p of o.trustedProxies) {
    if (!parseNetwork(p))
      problems.push(`trustedProxies: ${JSON.stringify(p)} is not an address or a network`);
  }
  if (!isLoopback(o.adminHost)) problems.push(`adminHost must be a loopback address, got ${o.adminHost}`);
  if (o.controlPlane) {
    const why = controlPlaneUrlProblem(o.controlPlane.url);
    if (why) problems.push(`controlPlane.url ${why}`);
    if (o.controlPlane.staticRoot != null && !isAbsolute(o.controlPlane.staticRoot))
      problems.push('controlPlane.staticRoot must be an absolute folder path');
  }
  if (problems.length > 0) throw new Error(`invalid router options: ${problems.join('; ')}`);
  return { ...o, probeKey: probeKeyFor(o.adminToken), platformKey: platformKeyFor(o.adminToken) };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Why a control-plane URL cannot be followed, or null. Plain `http:` only to a loopback host: the
 * token and the route table (every service's backends) must not cross a network in clear.
 */
export function controlPlaneUrlProblem(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `must be an http(s) URL, got ${JSON.stringify(url)}`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    return `must be an http(s) URL, got ${JSON.stringify(url)}`;
  if (u.username || u.password || u.search || u.hash)
    return `must have no credentials, query or fragment, got ${JSON.stringify(url)}`;
  if (u.protocol === 'http:' && !isLoopback(u.hostname.replace(/^\[(.*)\]$/, '$1')))
    return `must be https unless its host is loopback (the token and the route table would travel in clear), got ${JSON.stringify(url)}`;
  return null;
}

/** The admin API may only listen on these addresses. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
