import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DepartmentCode, problemResponses, secured } from '../platform/http-schemas.ts';
import { PageQuery, PageSchema } from '../platform/pagination.ts';
import type { RouteDeps } from '../platform/route-deps.ts';
import { callerOf } from '../tenancy/auth.hook.ts';
import * as requests from './request.logic.ts';
import * as S from './request.schema.ts';

/** Self-service hosting requests and the operators' approval queue, under /api/v1/requests. */
export const requestRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, appDeps) => {
  const deps = { db: appDeps.db, domain: appDeps.config.domain };
  const tags = ['provisioning'];

  app.get(
    '/requests',
    {
      schema: {
        tags,
        summary: 'List hosting requests, newest first (a department user sees its own)',
        security: secured,
        querystring: Type.Object({
          ...PageQuery,
          state: Type.Optional(S.RequestState),
          department: Type.Optional(DepartmentCode),
        }),
        response: { 200: PageSchema(S.HostingRequest), ...problemResponses },
      },
    },
    (req) => {
      const { state, department, ...page } = req.query;
      return requests.listRequests(deps, callerOf(req), page, { state, department });
    },
  );

  app.post(
    '/requests',
    {
      schema: {
        tags,
        summary:
          'Ask for hosting: approved and provisioned at once when inside quota and capacity, else queued for an operator',
        security: secured,
        body: S.NewRequest,
        response: { 201: S.HostingRequest, ...problemResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await requests.submitRequest(deps, callerOf(req), req.body)),
  );

  app.get(
    '/requests/lead-times',
    {
      schema: {
        tags,
        summary: 'Lead time from request to ready: median, 90th percentile and count, overall and per month',
        security: secured,
        response: { 200: S.LeadTimeReport, ...problemResponses },
      },
    },
    (req) => requests.leadTimeReport(deps, callerOf(req)),
  );

  app.get(
    '/requests/:id',
    {
      schema: {
        tags,
        summary: 'Show a hosting request',
        security: secured,
        params: S.RequestParams,
        response: { 200: S.HostingRequest, ...problemResponses },
      },
    },
    (req) => requests.getRequest(deps, callerOf(req), req.params.id),
  );

  app.post(
    '/requests/:id/approve',
    {
      schema: {
        tags,
        summary:
          'Approve and provision a pending request (operators); 409 with the reason if it still does not fit',
        security: secured,
        params: S.RequestParams,
        response: { 200: S.HostingRequest, ...problemResponses },
      },
    },
    (req) => requests.approveRequest(deps, callerOf(req), req.params.id),
  );

  app.post(
    '/requests/:id/reject',
    {
      schema: {
        tags,
        summary: 'Reject a pending request, saying why (operators)',
        security: secured,
        params: S.RequestParams,
        body: S.RejectBody,
        response: { 200: S.HostingRequest, ...problemResponses },
      },
    },
    (req) => requests.rejectRequest(deps, callerOf(req), req.params.id, req.body.reason),
  );

  app.post(
    '/requests/:id/cancel',
    {
      schema: {
        tags,
        summary: 'Withdraw a pending request (its department)',
        security: secured,
        params: S.RequestParams,
        response: { 200: S.HostingRequest, ...problemResponses },
      },
    },
    (req) => requests.cancelRequest(deps, callerOf(req), req.params.id),
  );
};
