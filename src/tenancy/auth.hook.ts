import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CSRF_HEADER, csrfMatches, readCookies, SESSION_COOKIE } from '../console/session.cookies.ts';
import type { Db } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import type { Caller } from './principal.ts';
import { authenticate } from './token.logic.ts';

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null;
  }
  interface FastifyContextConfig {
    /** Routes open without a token: health, the OpenAPI document, login. */
    public?: boolean;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Authenticates every request except those to routes marked `config: { public: true }`: by the
 * `Authorization: Bearer` header (CLI, scripts) or else by the console's session cookie. A browser
 * sends cookies on its own, so a cookie-authenticated change must also carry the CSRF token that
 * only the console's own pages can read (docs/decisions/010-console-sessions.md).
 */
export function registerAuth(app: FastifyInstance, db: Db): void {
  app.decorateRequest('caller', null);
  app.addHook('onRequest', async (req) => {
    if (req.routeOptions.config?.public) return;
    const header = req.headers.authorization;
    if (!header) {
      const session = readCookies(req).get(SESSION_COOKIE);
      if (!session)
        throw new DomainError('GOVHOST_UNAUTHENTICATED', 'send the header Authorization: Bearer <token>');
      const principal = await authenticate(db, session);
      if (!SAFE_METHODS.has(req.method)) {
        const given = req.headers[CSRF_HEADER];
        if (!csrfMatches(session, typeof given === 'string' ? given : undefined))
          throw new DomainError(
            'GOVHOST_CSRF',
            'send the govhost_csrf cookie value in the X-CSRF-Token header',
          );
      }
      req.caller = { ...principal, requestId: req.id };
      return;
    }
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1])
      throw new DomainError('GOVHOST_UNAUTHENTICATED', 'the Authorization header must be Bearer <token>');
    req.caller = { ...(await authenticate(db, match[1])), requestId: req.id };
  });
}

/** The authenticated caller of a request; routes that are not public always have one. */
export function callerOf(req: FastifyRequest): Caller {
  if (!req.caller) throw new DomainError('GOVHOST_UNAUTHENTICATED');
  return req.caller;
}
