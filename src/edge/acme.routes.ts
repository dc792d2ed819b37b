import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { problemResponses, secured, Timestamp } from '../platform/http-schemas.ts';
import type { RouteDeps } from '../platform/route-deps.ts';
import { callerOf } from '../tenancy/auth.hook.ts';
import { listAcmeOrders } from './acme.logic.ts';

const NullableTime = Type.Union([Timestamp, Type.Null()]);
const NullableText = Type.Union([Type.String(), Type.Null()]);

const AcmeOrder = Type.Object({
  hostname: Type.String(),
  state: Type.Union([Type.Literal('pending'), Type.Literal('valid'), Type.Literal('failed')]),
  notAfter: NullableTime,
  issuedAt: NullableTime,
  lastError: NullableText,
  failures: Type.Integer({ minimum: 0 }),
  nextAttemptAt: NullableTime,
  updatedAt: Timestamp,
});

/** GET /api/v1/acme/orders: each host's ACME certificate, its expiry, last error and next attempt. */
export const acmeRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, deps) => {
  app.get(
    '/acme/orders',
    {
      schema: {
        tags: ['edge'],
        summary: 'Certificates issued through ACME: per host, state, expiry, last error and next attempt',
        security: secured,
        response: {
          200: Type.Object({ enabled: Type.Boolean(), items: Type.Array(AcmeOrder) }),
          ...problemResponses,
        },
      },
    },
    async (req) => ({
      enabled: deps.config.acmeDirectoryUrl !== null,
      items: await listAcmeOrders(deps.db, callerOf(req)),
    }),
  );
};
