import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

/** The HttpOnly cookie that carries a console session's token secret. */
export const SESSION_COOKIE = 'govhost_session';
/** The readable cookie whose value the console echoes in `X-CSRF-Token` on unsafe requests. */
export const CSRF_COOKIE = 'govhost_csrf';
export const CSRF_HEADER = 'x-csrf-token';

/** The cookies of a request, by name; a malformed pair is skipped rather than failing the request. */
export function readCookies(req: FastifyRequest): Map<string, string> {
  const out = new Map<string, string>();
  const header = req.headers.cookie;
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    try {
      if (!out.has(name)) out.set(name, decodeURIComponent(value));
    } catch {
      // Not percent-decodable: not one of ours.
    }
  }
  return out;
}

/**
 * The CSRF token of a session is derived from the session secret rather than drawn at random, so
 * the server keeps no state for it and a cookie planted by a sibling host (hosted services live on
 * subdomains) cannot pair a chosen token with the victim's session.
 */
export function csrfTokenFor(sessionSecret: string): string {
  return createHmac('sha256', 'govhost-console-csrf').update(sessionSecret).digest('base64url');
}

export function csrfMatches(sessionSecret: string, given: string | undefined): boolean {
  if (!given) return false;
  const want = Buffer.from(csrfTokenFor(sessionSecret));
  const got = Buffer.from(given);
  return want.length === got.length && timingSafeEqual(want, got);
}

/** True when the browser reached us over HTTPS, directly or through a TLS-terminating proxy. */
export function overHttps(req: FastifyRequest): boolean {
  // A spoofed X-Forwarded-Proto only makes the caller's own cookie Secure: no harm to anyone else.
  return req.protocol === 'https' || req.headers['x-forwarded-proto'] === 'https';
}

interface CookieOptions {
  httpOnly: boolean;
  secure: boolean;
  /** Seconds; 0 deletes the cookie. */
  maxAge: number;
}

export function serializeCookie(name: string, value: string, o: CookieOptions): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, 'Path=/', 'SameSite=Strict', `Max-Age=${o.maxAge}`];
  if (o.maxAge === 0) parts.push('Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  if (o.httpOnly) parts.push('HttpOnly');
  if (o.secure) parts.push('Secure');
  return parts.join('; ');
}

/** The two Set-Cookie values that start a session, or (with a null secret) end one. */
export function sessionCookies(secret: string | null, maxAgeSeconds: number, secure: boolean): string[] {
  const maxAge = secret ? maxAgeSeconds : 0;
  return [
    serializeCookie(SESSION_COOKIE, secret ?? '', { httpOnly: true, secure, maxAge }),
    serializeCookie(CSRF_COOKIE, secret ? csrfTokenFor(secret) : '', { httpOnly: false, secure, maxAge }),
  ];
}
