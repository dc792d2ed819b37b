import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { problemResponses, problems, secured } from '../platform/http-schemas.ts';
import type { RouteDeps } from '../platform/route-deps.ts';
import { callerOf } from '../tenancy/auth.hook.ts';
import { Login } from '../tenancy/tenancy.schema.ts';
import { login, logout } from '../tenancy/token.logic.ts';
import { csrfTokenFor, overHttps, sessionCookies } from './session.cookies.ts';

const SessionInfo = Type.Object({
  expiresAt: Type.String(),
  csrfToken: Type.String({ description: 'Echo in X-CSRF-Token on POST/PUT/PATCH/DELETE' }),
});

/** Cookie sessions for the web console: the same password login and session tokens as /auth/login. */
export const sessionRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { db }) => {
  const tags = ['tenancy'];

  app.post(
    '/auth/session',
    {
      config: { public: true },
      schema: {
        tags,
        summary: 'Sign in to the console: sets an HttpOnly session cookie and a readable CSRF cookie',
        body: Login,
        response: { 200: SessionInfo, ...problems(401, 423, 429), ...problemResponses },
      },
    },
    async (req, reply) => {
      const session = await login(db, req.body, { requestId: req.id, address: req.ip });
      const maxAge = Math.max(0, Math.floor((Date.parse(session.expiresAt) - Date.now()) / 1000));
      reply.header('set-cookie', sessionCookies(session.token, maxAge, overHttps(req)));
      reply.header('cache-control', 'no-store');
      return { expiresAt: session.expiresAt, csrfToken: csrfTokenFor(session.token) };
    },
  );

  app.delete(
    '/auth/session',
    {
      schema: {
        tags,
        summary: 'Sign out of the console: revokes the session and clears its cookies',
        security: secured,
        response: { 204: Type.Null(), ...problemResponses },
      },
    },
    async (req, reply) => {
      await logout(db, callerOf(req));
      reply.header('set-cookie', sessionCookies(null, 0, overHttps(req)));
      return reply.status(204).send(null);
    },
  );
};
