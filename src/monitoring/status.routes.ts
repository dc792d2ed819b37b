import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DepartmentCode, problemResponses, secured, Timestamp, Uuid } from '../platform/http-schemas.ts';
import { PageQuery, PageSchema } from '../platform/pagination.ts';
import type { RouteDeps } from '../platform/route-deps.ts';
import { MULTILINE } from '../platform/validation.ts';
import { callerOf } from '../tenancy/auth.hook.ts';
import type { MonitoringEngine } from './engine.ts';
import * as maintenance from './maintenance.logic.ts';
import { csvFilename, slaCsv } from './sla.csv.ts';
import { slaReport } from './sla.logic.ts';
import { buildStatusFeed, type StatusFeed, StatusFeedCache } from './status.logic.ts';
import { renderStatusPage, STATUS_PAGE_CSP } from './status.page.ts';

/** Seconds a computed status feed is served before it is computed again. */
export const STATUS_CACHE_SECONDS = 5;

const ServiceRef = Type.String({
  pattern: '^[A-Za-z][A-Za-z0-9]{1,9}/[a-z][a-z0-9-]{0,38}[a-z0-9]$',
  description: 'DEPT/slug',
});

const Notice = Type.Object({
  id: Uuid,
  service: Type.Union([Type.String(), Type.Null()]),
  department: Type.Union([Type.String(), Type.Null()]),
  platformWide: Type.Boolean(),
  title: Type.String(),
  message: Type.String(),
  startsAt: Timestamp,
  endsAt: Timestamp,
  state: Type.Enum(['upcoming', 'active', 'over', 'cancelled']),
  createdBy: Type.String(),
  createdAt: Timestamp,
  cancelledAt: Type.Union([Timestamp, Type.Null()]),
});

const NewNotice = Type.Object(
  {
    service: Type.Optional(ServiceRef),
    platformWide: Type.Optional(Type.Boolean({ description: 'true: the whole platform (give no service)' })),
    title: Type.String({ minLength: 1, maxLength: 200 }),
    message: Type.Optional(Type.String({ maxLength: 2000, [MULTILINE]: true })),
    startsAt: Timestamp,
    endsAt: Timestamp,
  },
  { additionalProperties: false },
);

const Num = Type.Number();
const NullableNum = Type.Union([Type.Number(), Type.Null()]);
const SlaLine = Type.Object({
  department: Type.String(),
  service: Type.String(),
  nameEn: Type.String(),
  lifecycle: Type.String({
    description: "The service's state now; a retired service appears for the months it was active",
  }),
  tier: Type.String(),
  target: Num,
  eligibleMinutes: Num,
  downtimeMinutes: Num,
  maintenanceMinutes: Num,
  availability: NullableNum,
  met: Type.Union([Type.Boolean(), Type.Null()]),
  outages: Type.Integer(),
  incidents: Type.Integer(),
});
const SlaReportSchema = Type.Object({
  month: Type.String(),
  from: Timestamp,
  to: Timestamp,
  generatedAt: Timestamp,
  partial: Type.Boolean(),
  services: Type.Array(SlaLine),
  totals: Type.Object({
    services: Type.Integer(),
    met: Type.Integer(),
    notMet: Type.Integer(),
    eligibleMinutes: Num,
    downtimeMinutes: Num,
    maintenanceMinutes: Num,
    availability: NullableNum,
    outages: Type.Integer(),
    incidents: Type.Integer(),
  }),
});

/**
 * The public status page (`/status`, `/status.json`, no login) and, under /api/v1, maintenance
 * notices and SLA reports.
 */
/** The monitoring engine, when it runs beside the runtime: the page says "no data" of services it has not probed. */
export interface StatusRouteDeps {
  monitoring?: MonitoringEngine | null;
}

export const statusRoutes: FastifyPluginAsyncTypebox<RouteDeps & StatusRouteDeps> = async (app, deps) => {
  const { db } = deps;
  const feed = new StatusFeedCache<StatusFeed>(
    // Read at call time: the monitoring engine starts after the routes are registered.
    () => {
      const engine = deps.monitoring;
      return buildStatusFeed(db, engine ? { stateOf: (id) => engine.current(id)?.state } : null);
    },
    STATUS_CACHE_SECONDS * 1000,
  );
  // Rendered once per computed feed, not once per request.
  const rendered = new WeakMap<StatusFeed, { json?: string; html?: string }>();
  const render = async (kind: 'json' | 'html') => {
    const data = await feed.get();
    const forms = rendered.get(data) ?? {};
    rendered.set(data, forms);
    forms[kind] ??= kind === 'json' ? JSON.stringify(data) : renderStatusPage(data);
    return forms[kind];
  };
  const publicHeaders = {
    'cache-control': `public, max-age=${STATUS_CACHE_SECONDS}`,
    'x-content-type-options': 'nosniff',
  };

  app.get(
    '/status.json',
    // Public pages, not API operations: kept out of the OpenAPI document like /healthz.
    { config: { public: true }, schema: { hide: true } },
    async (_req, reply) =>
      reply
        .headers({ ...publicHeaders, 'access-control-allow-origin': '*' })
        .type('application/json; charset=utf-8')
        .send(await render('json')),
  );

  app.get(
    '/status',
    {
      config: { public: true },
      schema: { hide: true },
    },
    async (_req, reply) => {
      const html = await render('html');
      return reply
        .headers({
          ...publicHeaders,
          'content-security-policy': STATUS_PAGE_CSP,
          'referrer-policy': 'no-referrer',
        })
        .type('text/html; charset=utf-8')
        .send(html);
    },
  );

  await app.register(
    async (plain) => {
      const api = plain.withTypeProvider<TypeBoxTypeProvider>();
      api.get(
        '/maintenance',
        {
          schema: {
            tags: ['maintenance'],
            summary:
              "Maintenance notices: your department's and platform-wide ones (current unless include=all)",
            security: secured,
            querystring: Type.Object({
              ...PageQuery,
              service: Type.Optional(ServiceRef),
              include: Type.Enum(['current', 'all'], { default: 'current' }),
            }),
            response: { 200: PageSchema(Notice), ...problemResponses },
          },
        },
        (req) => {
          const { service, include, ...page } = req.query;
          return maintenance.listNotices(db, callerOf(req), page, { service, include });
        },
      );

      api.post(
        '/maintenance',
        {
          schema: {
            tags: ['maintenance'],
            summary: 'Announce maintenance of a service or of the whole platform (operators)',
            description: `The window must end after it starts, last at most ${maintenance.MAX_WINDOW_DAYS} days and not be over yet. It shows on the public status page and is excluded from SLA downtime.`,
            security: secured,
            body: NewNotice,
            response: { 201: Notice, ...problemResponses },
          },
        },
        async (req, reply) => {
          const notice = await maintenance.createNotice(db, callerOf(req), req.body);
          feed.invalidate();
          return reply.status(201).send(notice);
        },
      );

      api.delete(
        '/maintenance/:id',
        {
          schema: {
            tags: ['maintenance'],
            summary: 'Cancel a maintenance notice; one under way ends now',
            security: secured,
            params: Type.Object({ id: Uuid }),
            response: { 200: Notice, ...problemResponses },
          },
        },
        async (req) => {
          const notice = await maintenance.cancelNotice(db, callerOf(req), req.params.id);
          feed.invalidate();
          return notice;
        },
      );

      api.get(
        '/reports/sla',
        {
          schema: {
            tags: ['reports'],
            summary:
              'Monthly availability of each service against its SLA tier; CSV with format=csv or Accept: text/csv',
            security: secured,
            querystring: Type.Object({
              // The shape is in the document; parseMonth says which month is out of range.
              month: Type.String({
                pattern: '^[0-9]{4}-[0-9]{2}$',
                description: 'YYYY-MM, e.g. 2026-11 (UTC calendar month)',
              }),
              department: Type.Optional(DepartmentCode),
              format: Type.Optional(Type.Enum(['json', 'csv'])),
            }),
            response: { 200: SlaReportSchema, ...problemResponses },
          },
        },
        async (req, reply) => {
          const { month, department, format } = req.query;
          const report = await slaReport(db, callerOf(req), { month, department });
          const csv =
            format === 'csv' || (format === undefined && /\btext\/csv\b/.test(req.headers.accept ?? ''));
          if (!csv) return report;
          return reply
            .type('text/csv; charset=utf-8; header=present')
            .header('content-disposition', `attachment; filename="${csvFilename(report.month)}"`)
            .serializer((body: unknown) => body as string)
            .send(slaCsv(report) as never); // the 200 schema describes the JSON form; CSV is text
        },
      );
    },
    { prefix: '/api/v1' },
  );
};
