import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ServiceParams } from '../catalog/catalog.schema.ts';
import { problemResponses, problems, secured } from '../platform/http-schemas.ts';
import { PageQuery, PageSchema } from '../platform/pagination.ts';
import type { RouteDeps } from '../platform/route-deps.ts';
import { callerOf } from '../tenancy/auth.hook.ts';
import type { EdgeRouteDeps } from './certificates.routes.ts';
import * as domains from './domains.logic.ts';
import * as S from './domains.schema.ts';

/** Custom host names: a service's claims, and the operators' approval queue. */
export const domainRoutes: FastifyPluginAsyncTypebox<RouteDeps & EdgeRouteDeps> = async (app, appDeps) => {
  const { config } = appDeps;
  const deps: domains.DomainDeps = {
    db: appDeps.db,
    platform: { domain: config.domain, apiHost: config.host },
    txtCheck: config.domainTxtCheck,
    dnsResolver: config.dnsResolver,
    onChange: async () => appDeps.onEdgeChange?.(),
  };
  const tags = ['domains'];
  const base = '/services/:department/:slug/domains';

  app.get(
    base,
    {
      schema: {
        tags,
        summary: "A service's custom host names, with their state",
        security: secured,
        params: ServiceParams,
        response: { 200: Type.Array(S.Domain), ...problemResponses },
      },
    },
    (req) => domains.listServiceDomains(deps, callerOf(req), req.params.department, req.params.slug),
  );

  app.post(
    base,
    {
      schema: {
        tags,
        summary:
          'Claim a host name for the service (routed once an operator approves it); 409 if any service holds it',
        security: secured,
        params: ServiceParams,
        body: S.NewDomain,
        response: { 201: S.Domain, ...problems(409, 422), ...problemResponses },
      },
    },
    async (req, reply) =>
      reply
        .status(201)
        .send(
          await domains.claimDomain(
            deps,
            callerOf(req),
            req.params.department,
            req.params.slug,
            req.body.hostname,
          ),
        ),
  );

  app.delete(
    `${base}/:hostname`,
    {
      schema: {
        tags,
        summary: "Remove a service's claim on a host name (an approved one stops being routed)",
        security: secured,
        params: S.ServiceDomainParams,
        response: { 204: Type.Null(), ...problems(422), ...problemResponses },
      },
    },
    async (req, reply) => {
      const { department, slug, hostname } = req.params;
      await domains.removeDomain(deps, callerOf(req), department, slug, hostname);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/domains',
    {
      schema: {
        tags,
        summary: 'Claims across departments, oldest first (operators; a department user sees its own)',
        security: secured,
        querystring: Type.Object({ ...PageQuery, state: Type.Optional(S.DomainState) }),
        response: { 200: PageSchema(S.Domain), ...problemResponses },
      },
    },
    (req) => {
      const { state, ...page } = req.query;
      return domains.listDomains(deps, callerOf(req), page, { state });
    },
  );

  app.post(
    '/domains/:hostname/approve',
    {
      schema: {
        tags,
        summary:
          'Approve a claim (operators): the name is routed; with the TXT check on, 422 says what DNS holds',
        security: secured,
        params: S.DomainParams,
        response: { 200: S.Domain, ...problems(409, 422), ...problemResponses },
      },
    },
    (req) => domains.approveDomain(deps, callerOf(req), req.params.hostname),
  );

  app.post(
    '/domains/:hostname/reject',
    {
      schema: {
        tags,
        summary: 'Reject a claim, saying why (operators); an approved name stops being routed',
        security: secured,
        params: S.DomainParams,
        body: S.RejectDomain,
        response: { 200: S.Domain, ...problems(409, 422), ...problemResponses },
      },
    },
    (req) => domains.rejectDomain(deps, callerOf(req), req.params.hostname, req.body.reason),
  );
};
