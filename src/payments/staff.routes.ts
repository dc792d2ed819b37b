import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { resolveService } from '../catalog/service.logic.ts';
import { problemResponses, problems, secured } from '../platform/http-schemas.ts';
import { PageSchema } from '../platform/pagination.ts';
import type { RouteDeps } from '../platform/route-deps.ts';
import { callerOf } from '../tenancy/auth.hook.ts';
import { authorize, departmentScope } from '../tenancy/principal.ts';
import * as keys from './keys.logic.ts';
import { liveKeysUnavailable, type RouterTrust } from './live-mode.ts';
import * as logic from './payment.logic.ts';
import * as S from './payments.schema.ts';

/**
 * Staff's side of payments: a service's payment keys (made by its department's admins and
 * developers, shown once) and its payments, department-scoped; operators and finance see all.
 */
export const paymentStaffRoutes: FastifyPluginAsyncTypebox<
  RouteDeps & { routerTrust?: () => RouterTrust | null }
> = async (app, deps) => {
  const { db } = deps;
  const tags = ['payments'];
  const base = '/services/:department/:slug';

  app.get(
    `${base}/payment-keys`,
    {
      schema: {
        tags,
        summary: "A service's payment keys (never their secrets)",
        security: secured,
        params: S.ServiceParams,
        response: { 200: Type.Object({ items: Type.Array(S.PaymentKey) }), ...problemResponses },
      },
    },
    async (req) => ({
      items: await keys.listKeys(db, callerOf(req), req.params.department, req.params.slug),
    }),
  );

  app.post(
    `${base}/payment-keys`,
    {
      schema: {
        tags,
        summary: 'Make a payment key for the service; its secret is in this answer only',
        security: secured,
        params: S.ServiceParams,
        body: S.NewKey,
        response: {
          201: Type.Object({ key: S.PaymentKey, secret: Type.String() }),
          ...problems(403),
          ...problemResponses,
        },
      },
    },
    async (req, reply) =>
      reply
        .status(201)
        .send(
          await keys.createKey(
            db,
            callerOf(req),
            req.params.department,
            req.params.slug,
            { name: req.body.name, mode: req.body.mode ?? 'test' },
            liveKeysUnavailable(deps.config, deps.routerTrust?.() ?? null),
          ),
        ),
  );

  app.delete(
    `${base}/payment-keys/:id`,
    {
      schema: {
        tags,
        summary: 'Revoke a payment key at once',
        security: secured,
        params: S.KeyParams,
        response: { 200: S.PaymentKey, ...problemResponses },
      },
    },
    (req) => keys.revokeKey(db, callerOf(req), req.params.department, req.params.slug, req.params.id),
  );

  app.get(
    `${base}/payments`,
    {
      schema: {
        tags,
        summary: "A service's payments (both modes), newest first",
        security: secured,
        params: S.ServiceParams,
        querystring: S.PaymentQuery,
        response: { 200: PageSchema(S.Payment), ...problemResponses },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      authorize(caller, 'payments:read');
      const service = await resolveService(db, caller, req.params.department, req.params.slug);
      const { limit, offset, ...q } = req.query;
      return logic.searchPayments(
        db,
        { departmentId: departmentScope(caller) },
        { limit, offset },
        { ...S.filterOf(q), serviceId: service.id },
      );
    },
  );
};
