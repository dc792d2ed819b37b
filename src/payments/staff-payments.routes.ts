import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  DepartmentCode,
  problemResponses,
  problems,
  Slug,
  secured,
  Timestamp,
} from '../platform/http-schemas.ts';
import { callerOf } from '../tenancy/auth.hook.ts';
import { paymentProviders } from './live-mode.ts';
import type { PaymentRouteDeps } from './payments.routes.ts';
import * as S from './payments.schema.ts';
import { paymentsReportCsv } from './report.csv.ts';
import { staffPayment, staffRefund } from './staff.logic.ts';
import { paymentsSummary } from './summary.logic.ts';

const Day = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'YYYY-MM-DD (UTC)' });
const Figures = {
  payments: Type.Integer({ description: 'Payments made in the period, in any state' }),
  succeeded: Type.Integer(),
  finished: Type.Integer({ description: 'Payments in a final state: success, failed, cancelled, error' }),
  successRate: Type.Union([Type.Number(), Type.Null()], { description: 'succeeded ÷ finished' }),
  captured: Type.Integer({ description: 'HK cents of the successful payments' }),
  refunds: Type.Integer({ description: 'Refunds made in the period that succeeded' }),
  refunded: Type.Integer({ description: 'HK cents of those refunds' }),
};
const WindowQuery = {
  department: Type.Optional(DepartmentCode),
  service: Type.Optional(Slug),
  from: Type.Optional({ ...Day, description: 'First UTC day (default: 30 days before `to`)' }),
  to: Type.Optional({ ...Day, description: 'Last UTC day, included (default: today)' }),
  mode: Type.Optional(Type.Enum(['test', 'live'] as const)),
};
const PaymentDetail = Type.Intersect([
  S.PaymentWithEvents,
  Type.Object({
    refunds: Type.Array(S.Refund),
    ledger: Type.Array(
      Type.Object({
        id: Type.String(),
        kind: Type.String(),
        refundId: Type.Union([Type.String(), Type.Null()]),
        at: Timestamp,
        entries: Type.Array(Type.Object({ account: Type.String(), amount: Type.Integer() })),
      }),
    ),
  }),
]);

/**
 * Operators' and finance's side of payments (issue 19, part 5): volumes, success rate and refunds
 * per department, service and period; the payments and refunds of a period as CSV; one payment
 * with its history, refunds and ledger; and refunds by a department's admins, audited. Department
 * users reach only their own department's services (another's: 404); operators and finance all.
 */
export const staffPaymentRoutes: FastifyPluginAsyncTypebox<PaymentRouteDeps> = async (app, deps) => {
  const { db } = deps;
  const providers = paymentProviders(deps.config);
  const tags = ['payments'];
  const base = '/services/:department/:slug/payments/:id';
  const params = Type.Object({ department: DepartmentCode, slug: Slug, id: S.PaymentParams.properties.id });

  app.get(
    '/payment-summary',
    {
      schema: {
        tags,
        summary: 'Payments made, success rate and refunds per service and per UTC day or month of a period',
        security: secured,
        querystring: Type.Object(
          { ...WindowQuery, by: Type.Optional(Type.Enum(['day', 'month'] as const, { default: 'day' })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            from: Type.String(),
            to: Type.String(),
            by: Type.String(),
            department: Type.Union([Type.String(), Type.Null()]),
            service: Type.Union([Type.String(), Type.Null()]),
            mode: Type.Union([Type.String(), Type.Null()]),
            totals: Type.Object(Figures),
            services: Type.Array(
              Type.Object({ department: Type.String(), service: Type.String(), ...Figures }),
            ),
            periods: Type.Array(Type.Object({ period: Type.String(), ...Figures })),
          }),
          ...problemResponses,
        },
      },
    },
    (req) => paymentsSummary(db, callerOf(req), req.query),
  );

  app.get(
    '/payment-report',
    {
      schema: {
        tags,
        summary:
          'The payments and refunds made in a period, as CSV (RFC 4180): one line per payment and per refund, amounts in HK cents',
        security: secured,
        querystring: Type.Object(WindowQuery, { additionalProperties: false }),
        // No 200 schema: the answer is text/csv, never JSON.
        response: { ...problemResponses },
      },
    },
    async (req, reply) => {
      const { csv, filename } = await paymentsReportCsv(db, callerOf(req), req.query);
      return reply
        .type('text/csv; charset=utf-8; header=present')
        .header('content-disposition', `attachment; filename="${filename}"`)
        .send(csv as never); // the typed replies are the problem documents; this one is text
    },
  );

  app.get(
    base,
    {
      schema: {
        tags,
        summary:
          'One payment of a service: its states with their reasons, its refunds and its ledger postings',
        security: secured,
        params,
        response: { 200: PaymentDetail, ...problemResponses },
      },
    },
    (req) => staffPayment(db, callerOf(req), req.params.department, req.params.slug, req.params.id),
  );

  app.post(
    `${base}/refunds`,
    {
      schema: {
        tags,
        summary:
          "Refund part or all of a service's successful payment, as its department's admin (audited); never more than it captured (409)",
        security: secured,
        params,
        headers: S.IdempotencyHeaders,
        body: S.NewRefund,
        response: { 200: S.Refund, 201: S.Refund, ...problems(403, 409, 503), ...problemResponses },
      },
    },
    async (req, reply) => {
      const r = await staffRefund(
        db,
        providers,
        callerOf(req),
        req.params,
        req.body.amount,
        req.headers['idempotency-key'],
      );
      if (r.replayed) reply.header('idempotent-replayed', 'true');
      return reply.status(r.replayed ? 200 : 201).send(r.refund);
    },
  );
};
