import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ServiceParams } from '../catalog/catalog.schema.ts';
import { problemResponses, problems, secured } from '../platform/http-schemas.ts';
import type { RouteDeps } from '../platform/route-deps.ts';
import { callerOf } from '../tenancy/auth.hook.ts';
import { compareCutover } from './cutover.compare.ts';
import * as cutovers from './cutover.logic.ts';
import * as S from './cutover.schema.ts';
import type { CutoverWatch } from './cutover.watch.ts';

export interface CutoverRouteDeps {
  /** Publishes the route table again (the runtime's edgeChanged: the same route inputs). */
  onEdgeChange?: () => Promise<void>;
  /** The router's figures of legacy and new, where this process runs the runtime. */
  watch?: () => CutoverWatch | null;
}

/** A service's cut-over from its legacy service (decision 035): set, shift, back, compare. */
export const cutoverRoutes: FastifyPluginAsyncTypebox<RouteDeps & CutoverRouteDeps> = async (
  app,
  appDeps,
) => {
  const deps: cutovers.CutoverDeps = {
    db: appDeps.db,
    config: appDeps.config,
    onChange: async () => appDeps.onEdgeChange?.(),
  };
  const tags = ['migration'];
  const base = '/services/:department/:slug/cutover';
  const one = { 200: S.Cutover, ...problemResponses };

  app.get(
    base,
    {
      schema: {
        tags,
        summary: "The service's cut-over from its legacy service: the upstream and the share",
        security: secured,
        params: ServiceParams,
        response: one,
      },
    },
    (req) => cutovers.getCutover(deps, callerOf(req), req.params.department, req.params.slug),
  );

  app.put(
    base,
    {
      schema: {
        tags,
        summary:
          'Front the service with its legacy service (operators); 422 when GOVHOST_LEGACY_ALLOW does not list it',
        security: secured,
        params: ServiceParams,
        body: S.CutoverInput,
        response: { ...one, ...problems(422) },
      },
    },
    (req) => cutovers.setCutover(deps, callerOf(req), req.params.department, req.params.slug, req.body),
  );

  app.post(
    `${base}/shift`,
    {
      schema: {
        tags,
        summary: 'Send this percent of requests to the new release, the rest to legacy (operators)',
        security: secured,
        params: ServiceParams,
        body: S.Shift,
        response: { ...one, ...problems(422) },
      },
    },
    (req) =>
      cutovers.shiftCutover(deps, callerOf(req), req.params.department, req.params.slug, req.body.percent),
  );

  app.post(
    `${base}/back`,
    {
      schema: {
        tags,
        summary: 'Instant fallback: every request to the legacy service at once (operators)',
        security: secured,
        params: ServiceParams,
        response: one,
      },
    },
    (req) => cutovers.shiftCutover(deps, callerOf(req), req.params.department, req.params.slug, 0),
  );

  app.delete(
    base,
    {
      schema: {
        tags,
        summary: 'Stop fronting the legacy service: every request to the new release (operators)',
        security: secured,
        params: ServiceParams,
        response: { 204: Type.Null(), ...problemResponses },
      },
    },
    async (req, reply) => {
      await cutovers.removeCutover(deps, callerOf(req), req.params.department, req.params.slug);
      return reply.status(204).send(null);
    },
  );

  app.get(
    `${base}/compare`,
    {
      schema: {
        tags,
        summary: 'Error rate and latency of legacy and new side by side, from the router (parallel run)',
        security: secured,
        params: ServiceParams,
        response: { 200: S.Comparison, ...problems(503), ...problemResponses },
      },
    },
    (req) =>
      compareCutover(deps, appDeps.watch?.() ?? null, callerOf(req), req.params.department, req.params.slug),
  );
};
