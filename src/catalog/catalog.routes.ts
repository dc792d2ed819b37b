import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DepartmentCode, problemResponses, secured } from '../platform/http-schemas.ts';
import { PageQuery, PageSchema } from '../platform/pagination.ts';
import type { RouteDeps } from '../platform/route-deps.ts';
import { callerOf } from '../tenancy/auth.hook.ts';
import * as S from './catalog.schema.ts';
import type { LifecycleState } from './catalog.tables.ts';
import * as services from './service.logic.ts';

/**
 * What a lifecycle change (suspend, retire, activate) must also do outside the catalogue: the
 * composition root gives the runtime's, which stops or starts the service's instances.
 */
export interface CatalogRouteDeps {
  onLifecycle?: (
    svc: { id: string; slug: string; departmentCode: string },
    state: LifecycleState,
  ) => Promise<void>;
}

/** The service catalogue under /api/v1/services. */
export const catalogRoutes: FastifyPluginAsyncTypebox<RouteDeps & CatalogRouteDeps> = async (
  app,
  appDeps,
) => {
  const { db, config } = appDeps;
  const deps = {
    db,
    domain: config.domain,
    onLifecycle: async (svc: { id: string; slug: string; departmentCode: string }, state: LifecycleState) =>
      appDeps.onLifecycle?.(svc, state),
  };
  const tags = ['catalog'];

  app.get(
    '/services',
    {
      schema: {
        tags,
        summary: 'List services (a department user sees its own department)',
        security: secured,
        querystring: Type.Object({
          ...PageQuery,
          department: Type.Optional(DepartmentCode),
          lifecycle: Type.Optional(S.Lifecycle),
          origin: Type.Optional(S.Origin),
        }),
        response: { 200: PageSchema(S.Service), ...problemResponses },
      },
    },
    (req) => {
      const { department, lifecycle, origin, ...page } = req.query;
      return services.listServices(deps, callerOf(req), page, { department, lifecycle, origin });
    },
  );

  app.post(
    '/services',
    {
      schema: {
        tags,
        summary: 'Register a service (department defaults to your own)',
        security: secured,
        body: S.NewService,
        response: { 201: S.Service, ...problemResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await services.createService(deps, callerOf(req), req.body)),
  );

  app.get(
    '/services/:department/:slug',
    {
      schema: {
        tags,
        summary: 'Show a service',
        security: secured,
        params: S.ServiceParams,
        response: { 200: S.Service, ...problemResponses },
      },
    },
    (req) => services.getService(deps, callerOf(req), req.params.department, req.params.slug),
  );

  app.patch(
    '/services/:department/:slug',
    {
      schema: {
        tags,
        summary: 'Change a service, including its lifecycle state',
        security: secured,
        params: S.ServiceParams,
        body: S.ServicePatch,
        response: { 200: S.Service, ...problemResponses },
      },
    },
    (req) => services.updateService(deps, callerOf(req), req.params.department, req.params.slug, req.body),
  );

  app.delete(
    '/services/:department/:slug',
    {
      schema: {
        tags,
        summary: 'Delete a planned or retired service',
        security: secured,
        params: S.ServiceParams,
        response: { 204: Type.Null(), ...problemResponses },
      },
    },
    async (req, reply) => {
      await services.deleteService(deps, callerOf(req), req.params.department, req.params.slug);
      return reply.status(204).send(null);
    },
  );
};
