import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DepartmentCode, problemResponses, problems, secured } from '../platform/http-schemas.ts';
import { PageSchema } from '../platform/pagination.ts';
import type { RouteDeps } from '../platform/route-deps.ts';
import { callerOf } from '../tenancy/auth.hook.ts';
import { supportCsv, supportCsvFilename } from './report.csv.ts';
import { monthlyReport } from './report.logic.ts';
import * as sla from './sla.logic.ts';
import * as logic from './ticket.logic.ts';
import * as S from './ticket.schema.ts';

/**
 * The support desk: tickets between departments and the central team, and its SLA targets. A
 * department sees and raises its own tickets; the desk (operators) sees all and works them.
 */
export const ticketRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { db, config }) => {
  const deps = { db, config };
  const tags = ['support'];
  const one = '/tickets/:id';

  app.get(
    '/tickets',
    {
      schema: {
        tags,
        summary: 'Tickets the caller may see, newest first, with their SLA clocks',
        security: secured,
        querystring: S.TicketQuery,
        response: { 200: PageSchema(S.Ticket), ...problemResponses },
      },
    },
    (req) => {
      const { department, status, priority, assignee, open, ...page } = req.query;
      return logic.listTickets(deps, callerOf(req), page, { department, status, priority, assignee, open });
    },
  );

  app.post(
    '/tickets',
    {
      schema: {
        tags,
        summary: 'Raise a ticket (status new); its SLA tier is its service’s',
        security: secured,
        body: S.NewTicket,
        response: { 201: S.Ticket, ...problems(422), ...problemResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await logic.raiseTicket(deps, callerOf(req), req.body)),
  );

  app.get(
    one,
    {
      schema: {
        tags,
        summary: 'One ticket with its timeline (internal entries for the desk only) and attachments',
        security: secured,
        params: S.TicketParams,
        response: { 200: S.TicketWithTimeline, ...problemResponses },
      },
    },
    (req) => logic.getTicket(deps, callerOf(req), req.params.id),
  );

  app.post(
    `${one}/comments`,
    {
      schema: {
        tags,
        summary: 'Comment in public, or internally (the desk only)',
        security: secured,
        params: S.TicketParams,
        body: S.Comment,
        response: { 200: S.Ticket, ...problems(409, 422), ...problemResponses },
      },
    },
    (req) => logic.comment(deps, callerOf(req), req.params.id, req.body.body, req.body.internal ?? false),
  );

  app.post(
    `${one}/move`,
    {
      schema: {
        tags,
        summary: 'Move to another status; 409 names the statuses allowed from where it stands',
        security: secured,
        params: S.TicketParams,
        body: S.Move,
        response: { 200: S.Ticket, ...problems(409, 422), ...problemResponses },
      },
    },
    (req) => logic.moveTicket(deps, callerOf(req), req.params.id, req.body.to, req.body.note),
  );

  app.post(
    `${one}/assign`,
    {
      schema: {
        tags,
        summary: 'Give the ticket to an operator (the desk)',
        security: secured,
        params: S.TicketParams,
        body: S.Assign,
        response: { 200: S.Ticket, ...problems(422), ...problemResponses },
      },
    },
    (req) => logic.assignTicket(deps, callerOf(req), req.params.id, req.body.assignee),
  );

  app.post(
    `${one}/links`,
    {
      schema: {
        tags,
        summary: 'Link a monitoring incident of the department, or set the service (the desk)',
        security: secured,
        params: S.TicketParams,
        body: S.Link,
        response: { 200: S.Ticket, ...problems(422), ...problemResponses },
      },
    },
    (req) => logic.linkTicket(deps, callerOf(req), req.params.id, req.body),
  );

  app.put(
    `${one}/watchers`,
    {
      schema: {
        tags,
        summary: 'Set who is told of public changes beside the raiser',
        security: secured,
        params: S.TicketParams,
        body: S.WatchersBody,
        response: { 200: S.Ticket, ...problems(422), ...problemResponses },
      },
    },
    (req) => logic.setWatchers(deps, callerOf(req), req.params.id, req.body.watchers),
  );

  app.post(
    `${one}/attachments`,
    {
      schema: {
        tags,
        summary: 'Attach a PNG, JPEG, PDF or plain-text file (checked by content; up to 512 KiB)',
        security: secured,
        params: S.TicketParams,
        body: S.Attachment,
        response: { 201: S.Ticket, ...problems(409, 413, 415, 422), ...problemResponses },
      },
    },
    async (req, reply) =>
      reply.status(201).send(await logic.attach(deps, callerOf(req), req.params.id, req.body)),
  );

  app.get(
    `${one}/attachments/:attachment`,
    {
      schema: {
        tags,
        summary: "An attachment's bytes (always as a download)",
        security: secured,
        params: S.AttachmentParams,
        response: {
          200: Type.Unsafe<unknown>({ type: 'string', format: 'binary', description: 'the file' }),
          ...problemResponses,
        },
      },
    },
    async (req, reply) => {
      const file = await logic.readAttachment(deps, callerOf(req), req.params.id, req.params.attachment);
      return reply
        .header('content-type', file.mediaType)
        .header('x-content-type-options', 'nosniff')
        .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(file.filename)}`)
        .send(file.data);
    },
  );

  app.get(
    '/support/sla-targets',
    {
      schema: {
        tags,
        summary: 'First-response and resolution targets by SLA tier and priority',
        security: secured,
        response: { 200: Type.Array(S.Target), ...problemResponses },
      },
    },
    (req) => sla.listTargets(db, callerOf(req)),
  );

  app.put(
    '/support/sla-targets/:tier/:priority',
    {
      schema: {
        tags,
        summary: 'Set the targets of one tier and priority (the desk)',
        security: secured,
        params: S.TargetParams,
        body: S.TargetInput,
        response: { 200: S.Target, ...problems(422), ...problemResponses },
      },
    },
    (req) => sla.setTarget(db, callerOf(req), req.params.priority, req.params.tier, req.body),
  );

  app.get(
    '/support/reports/monthly',
    {
      schema: {
        tags,
        summary:
          'Response and resolution times and breaches of tickets raised in a month, by department and priority; CSV with format=csv or Accept: text/csv',
        security: secured,
        querystring: Type.Object({
          month: Type.String({ pattern: '^[0-9]{4}-(0[1-9]|1[0-2])$', description: 'YYYY-MM (UTC)' }),
          department: Type.Optional(DepartmentCode),
          format: Type.Optional(Type.Enum(['json', 'csv'] as const)),
        }),
        response: { 200: S.Report, ...problemResponses },
      },
    },
    async (req, reply) => {
      const { month, department, format } = req.query;
      const report = await monthlyReport(deps, callerOf(req), { month, department });
      const csv =
        format === 'csv' || (format === undefined && /\btext\/csv\b/.test(req.headers.accept ?? ''));
      if (!csv) return report;
      return reply
        .type('text/csv; charset=utf-8; header=present')
        .header('content-disposition', `attachment; filename="${supportCsvFilename(report.month)}"`)
        .serializer((body: unknown) => body as string)
        .send(supportCsv(report) as never); // the 200 schema describes the JSON form; CSV is text
    },
  );
};
