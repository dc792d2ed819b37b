import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { problemResponses, secured } from '../platform/http-schemas.ts';
import type { RouteDeps } from '../platform/route-deps.ts';
import { callerOf } from './auth.hook.ts';
import { listSignInThrottles, unlockSignIn } from './sign-in.logic.ts';

const Throttle = Type.Object({
  kind: Type.Enum(['user', 'address']),
  subject: Type.String({ description: 'The user name as typed, or the client address' }),
  state: Type.Enum(['locked', 'delayed', 'counting']),
  failures: Type.Integer({ description: 'Failed passwords in the current 15-minute window' }),
  lastFailureAt: Type.String(),
  blockedUntil: Type.Union([Type.String(), Type.Null()]),
  lockedUntil: Type.Union([Type.String(), Type.Null()]),
});

/** Failed password sign-ins under /api/v1/sign-in: the operators' view, and unlocking. */
export const signInRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { db }) => {
  const tags = ['tenancy'];

  app.get(
    '/sign-in/throttles',
    {
      schema: {
        tags,
        summary: 'Locked user names and addresses, and those with failed passwords in the last 15 minutes',
        security: secured,
        response: { 200: Type.Object({ items: Type.Array(Throttle) }), ...problemResponses },
      },
    },
    async (req) => ({ items: await listSignInThrottles(db, callerOf(req)) }),
  );

  app.delete(
    '/sign-in/throttles/:kind/:subject',
    {
      schema: {
        tags,
        summary: 'Lift the lock or delay of a user name or address, and forget its failures',
        security: secured,
        params: Type.Object({
          kind: Type.Enum(['user', 'address']),
          subject: Type.String({ minLength: 1, maxLength: 200 }),
        }),
        response: { 200: Throttle, ...problemResponses },
      },
    },
    (req) => unlockSignIn(db, callerOf(req), req.params.kind, req.params.subject),
  );
};
