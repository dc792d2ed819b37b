import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { resolveService } from '../catalog/service.logic.ts';
import { DomainError } from '../platform/errors.ts';
import { DepartmentCode, problemResponses, problems, secured } from '../platform/http-schemas.ts';
import { callerOf } from '../tenancy/auth.hook.ts';
import { resolveDepartment } from '../tenancy/department.logic.ts';
import { authorize, departmentScope } from '../tenancy/principal.ts';
import { sandboxModes } from './live-mode.ts';
import type { PaymentRouteDeps } from './payments.routes.ts';
import { reconciliationCsv } from './reconcile.csv.ts';
import { checkDay, reconcileDay, storedDays } from './settlement.logic.ts';

const Day = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'YYYY-MM-DD (UTC)' });
const Difference = Type.Object({
  kind: Type.Enum(['missing_in_ledger', 'missing_at_provider', 'amount_mismatch'] as const),
  item: Type.Enum(['capture', 'refund'] as const),
  paymentId: Type.String(),
  refundId: Type.Union([Type.String(), Type.Null()]),
  ledgerAmount: Type.Union([Type.Integer(), Type.Null()]),
  providerAmount: Type.Union([Type.Integer(), Type.Null()]),
});
const ServiceDay = Type.Object({
  day: Type.String(),
  department: Type.String(),
  service: Type.String(),
  ledgerCaptured: Type.Integer(),
  ledgerRefunded: Type.Integer(),
  providerCaptured: Type.Integer(),
  providerRefunded: Type.Integer(),
  fees: Type.Integer(),
  differences: Type.Array(Difference),
  runAt: Type.String(),
});
const Unknown = Type.Object({
  type: Type.String(),
  paymentId: Type.String(),
  refundId: Type.Union([Type.String(), Type.Null()]),
  amount: Type.Integer(),
  fee: Type.Integer(),
});

/**
 * The daily reconciliation of the ledger with the provider's settlement report (docs/payments.md):
 * run for a day, and read back with every difference, as JSON or CSV. Department users reach only
 * their own department's services; operators and finance all of them.
 */
export const reconciliationRoutes: FastifyPluginAsyncTypebox<PaymentRouteDeps> = async (app, deps) => {
  const { db } = deps;
  const tags = ['payments'];

  app.post(
    '/payment-reconciliations',
    {
      schema: {
        tags,
        summary: "Reconcile a day: settle what agrees with the provider's report, store every difference",
        security: secured,
        body: Type.Object(
          { day: Day, department: Type.Optional(DepartmentCode) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ services: Type.Array(ServiceDay), unknown: Type.Array(Unknown) }),
          ...problems(503),
          ...problemResponses,
        },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      authorize(caller, 'payments:reconcile');
      checkDay(req.body.day);
      if (!deps.paymentProvider)
        throw new DomainError(
          'GOVHOST_PAYMENT_PROVIDER_UNAVAILABLE',
          'no payment provider is configured (GOVHOST_PAYMENTS_SANDBOX_URL)',
        );
      const department = req.body.department
        ? (await resolveDepartment(db, caller, req.body.department)).id
        : departmentScope(caller);
      return reconcileDay(
        { db, provider: deps.paymentProvider, modes: sandboxModes(deps.config) },
        req.body.day,
        department,
      );
    },
  );

  app.get(
    '/payment-reconciliations',
    {
      schema: {
        tags,
        summary:
          'Reconciled days per service, newest first, with their differences; CSV (one line per difference) with format=csv or Accept: text/csv',
        security: secured,
        querystring: Type.Object({
          day: Type.Optional(Day),
          department: Type.Optional(DepartmentCode),
          service: Type.Optional(Type.String({ minLength: 1, maxLength: 63 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
          format: Type.Optional(Type.Enum(['json', 'csv'] as const)),
        }),
        response: { 200: Type.Object({ items: Type.Array(ServiceDay) }), ...problemResponses },
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      authorize(caller, 'payments:read');
      const { day, department, service, limit, format } = req.query;
      if (day) checkDay(day);
      if (service && !department)
        throw new DomainError('GOVHOST_VALIDATION', 'service needs its department (department=CODE)');
      const departmentId = department
        ? (await resolveDepartment(db, caller, department)).id
        : departmentScope(caller);
      const serviceId =
        service && department ? (await resolveService(db, caller, department, service)).id : undefined;
      const items = await storedDays(db, { departmentId, day, serviceId, limit: limit ?? 100 });
      const csv =
        format === 'csv' || (format === undefined && /\btext\/csv\b/.test(req.headers.accept ?? ''));
      if (!csv) return { items };
      return reply
        .type('text/csv; charset=utf-8; header=present')
        .header(
          'content-disposition',
          `attachment; filename="payment-reconciliation${day ? `-${day}` : ''}.csv"`,
        )
        .serializer((body: unknown) => body as string)
        .send(reconciliationCsv(items) as never); // the 200 schema describes the JSON form; CSV is text
    },
  );
};
