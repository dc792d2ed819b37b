import type { FastifyInstance, FastifyRequest } from 'fastify';
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

/** Authenticates every request except those to routes marked `config: { public: true }`. */
export function registerAuth(app: FastifyInstance, db: Db): void {
  app.decorateRequest('caller', null);
  app.addHook('onRequest', async (req) => {
    if (req.routeOptions.config?.public) return;
    const header = req.headers.authorization;
    if (!header)
      throw new DomainError('GOVHOST_UNAUTHENTICATED', 'send the header Authorization: Bearer <token>');
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
