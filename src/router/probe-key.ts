/**
 * The platform's health probes go through the router like citizens' requests, but must not be
 * counted as citizens' traffic (they would add six requests a minute to every service, and their
 * failures to its error rate). A probe carries `X-GovHost-Probe: <key>`; the router counts a
 * request with the right key under the service's probe label instead. The key is derived from the
 * admin token the router and the platform already share, so no new secret has to be handed over,
 * and it is not the token itself: a probe key that leaked would not open the admin API. Anyone
 * without it who sends the header is counted as a citizen, and the header never reaches a backend.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const PROBE_HEADER = 'x-govhost-probe';

/** The probe key for a router whose admin token is `adminToken`. */
export function probeKeyFor(adminToken: string): string {
  return createHmac('sha256', adminToken).update('govhost probe key v1').digest('base64url');
}

/**
 * The key the router adds to the requests it forwards to the platform's own routes (the payment
 * host, `platform: true`), as `X-GovHost-Router-Key`, so that the platform can tell them from a
 * request sent straight to its port and trust the router's X-Forwarded-Proto (live payment keys
 * need HTTPS, decision 049). Derived from the admin token like the probe key, and another value:
 * neither gives the other, nor the token. A client's own header of that name is dropped.
 */
export const PLATFORM_KEY_HEADER = 'x-govhost-router-key';

export function platformKeyFor(adminToken: string): string {
  return createHmac('sha256', adminToken).update('govhost platform key v1').digest('base64url');
}

/** Whether a request's probe header carries `key` (compared in constant time). */
export function isProbeKey(given: string, key: Buffer): boolean {
  if (key.length === 0 || given.length !== key.length) return false;
  return timingSafeEqual(Buffer.from(given, 'latin1'), key);
}
