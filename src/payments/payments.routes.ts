import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { DomainError } from '../platform/errors.ts';
import { problemResponses, problems, secured } from '../platform/http-schemas.ts';
import { PageSchema } from '../platform/pagination.ts';
import type { RouteDeps } from '../platform/route-deps.ts';
import { authenticateKey, type ServiceKey } from './keys.logic.ts';
import { liveRequestRefused, paymentProviders, type RouterTrust } from './live-mode.ts';
import { payPageUrl } from './pay-host.ts';
import * as logic from './payment.logic.ts';
import * as S from './payments.schema.ts';
import type { PaymentProvider } from './provider.ts';
import { checkReturnUrl } from './return-url.ts';

export interface PaymentRouteDeps extends RouteDeps {
  /** The provider test-mode payments reach (the sandbox); null: none configured. */
  paymentProvider: PaymentProvider | null;
  /** The router in front of this process, asked at each request (it starts after the routes). */
  routerTrust?: () => RouterTrust | null;
}

/** The service behind the request's payment key: these routes take no staff token. */
function keyOf(deps: PaymentRouteDeps, req: FastifyRequest): Promise<ServiceKey> {
  const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (!match?.[1])
    throw new DomainError('GOVHOST_UNAUTHENTICATED', 'send the header Authorization: Bearer <payment key>');
  return authenticateKey(deps.db, match[1], () =>
    liveRequestRefused(deps.config, deps.routerTrust?.() ?? null, req.headers),
  );
}

/**
 * The payments API for hosted services (decision 040), authenticated by a payment key of one
 * service and mode, never by a staff token. Create and refund take an `Idempotency-Key`.
 */
export const paymentRoutes: FastifyPluginAsyncTypebox<PaymentRouteDeps> = async (app, deps) => {
  const { db } = deps;
  const live = paymentProviders(deps.config).live;
  const tags = ['payments'];
  const config = { public: true };
  // Authenticated before the body is validated: an unknown key learns nothing of the schema.
  const keys = new WeakMap<FastifyRequest, ServiceKey>();
  app.addHook('onRequest', async (req) => {
    keys.set(req, await keyOf(deps, req));
  });
  const keyFor = (req: FastifyRequest) => keys.get(req) as ServiceKey;

  app.post(
    '/payments',
    {
      config,
      schema: {
        tags,
        summary: 'Create a payment (state created); replays answer 200 with Idempotent-Replayed: true',
        security: secured,
        headers: S.IdempotencyHeaders,
        body: S.NewPayment,
        response: { 200: S.Payment, 201: S.Payment, ...problems(401, 403, 409, 422), ...problemResponses },
      },
    },
    async (req, reply) => {
      const key = keyFor(req);
      await checkReturnUrl(db, deps.config.domain, key, req.body.returnUrl);
      const r = await logic.createPayment(db, key, req.body, req.headers['idempotency-key']);
      if (r.replayed) reply.header('idempotent-replayed', 'true');
      // Where to send the citizen (GOV.UK Pay's next_url): the hosted page, while it can be paid.
      // A live payment's came over HTTPS through the router to the payment host: the same way back.
      const page =
        key.mode === 'live'
          ? `https://${req.headers.host}/pay/${r.payment.id}`
          : payPageUrl(deps.config, r.payment.id);
      const nextUrl = r.payment.state === 'created' ? { nextUrl: page } : {};
      return reply.status(r.replayed ? 200 : 201).send({ ...r.payment, ...nextUrl });
    },
  );

  app.get(
    '/payments',
    {
      config,
      schema: {
        tags,
        summary: "The key's service's payments, newest first, by reference, state and creation time",
        security: secured,
        querystring: S.PaymentQuery,
        response: { 200: PageSchema(S.Payment), ...problems(401), ...problemResponses },
      },
    },
    async (req) => {
      const key = keyFor(req);
      const { limit, offset, ...q } = req.query;
      return logic.searchPayments(
        db,
        { serviceId: key.serviceId, mode: key.mode },
        { limit, offset },
        S.filterOf(q),
      );
    },
  );

  app.get(
    '/payments/:id',
    {
      config,
      schema: {
        tags,
        summary: 'One payment, with every state it went through and why',
        security: secured,
        params: S.PaymentParams,
        response: { 200: S.PaymentWithEvents, ...problems(401), ...problemResponses },
      },
    },
    async (req) => logic.getPaymentForKey(db, keyFor(req), req.params.id),
  );

  app.post(
    '/payments/:id/cancel',
    {
      config,
      schema: {
        tags,
        summary: 'Cancel a payment the citizen has not submitted; 409 once it has',
        security: secured,
        params: S.PaymentParams,
        response: { 200: S.Payment, ...problems(401, 409), ...problemResponses },
      },
    },
    async (req) => logic.cancelPayment(db, keyFor(req), req.params.id),
  );

  app.post(
    '/payments/:id/refunds',
    {
      config,
      schema: {
        tags,
        summary: 'Refund part or all of a successful payment; never more than it captured (409)',
        security: secured,
        params: S.PaymentParams,
        headers: S.IdempotencyHeaders,
        body: S.NewRefund,
        response: { 200: S.Refund, 201: S.Refund, ...problems(401, 409, 503), ...problemResponses },
      },
    },
    async (req, reply) => {
      const key = keyFor(req);
      const r = await logic.refundPayment(
        db,
        key.mode === 'live' ? live : deps.paymentProvider,
        key,
        req.params.id,
        req.body.amount,
        req.headers['idempotency-key'],
      );
      if (r.replayed) reply.header('idempotent-replayed', 'true');
      return reply.status(r.replayed ? 200 : 201).send(r.refund);
    },
  );

  app.get(
    '/payments/:id/refunds',
    {
      config,
      schema: {
        tags,
        summary: "A payment's refunds",
        security: secured,
        params: S.PaymentParams,
        response: {
          200: Type.Object({ items: Type.Array(S.Refund) }),
          ...problems(401),
          ...problemResponses,
        },
      },
    },
    async (req) => ({ items: await logic.listRefundsForKey(db, keyFor(req), req.params.id) }),
  );
};
