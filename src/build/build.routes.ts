import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ServiceParams } from '../catalog/catalog.schema.ts';
import { problemResponses, secured } from '../platform/http-schemas.ts';
import type { RouteDeps } from '../platform/route-deps.ts';
import { callerOf } from '../tenancy/auth.hook.ts';
import { buildPaths, stagingLog } from './build.logic.ts';

const StagingLog = Type.Object({
  release: Type.Integer({ description: 'the release version the log is of' }),
  text: Type.String({ description: 'whole lines from `offset`; secrets are never in it' }),
  nextOffset: Type.Integer({ description: 'pass as `offset` to read on' }),
  done: Type.Boolean({ description: 'the staging has ended: no more lines will come' }),
  staged: Type.Boolean({ description: 'false when the release has no staging log (made before droplets)' }),
});

/** A release's staging output, kept per release; read on with `offset` while it is staging. */
export const buildRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, deps) => {
  const { logsDir } = buildPaths(deps.config.dataDir);
  app.get(
    '/services/:department/:slug/staging-log',
    {
      schema: {
        tags: ['build'],
        summary: "A release's staging output (default: the latest release), from a byte offset",
        security: secured,
        params: ServiceParams,
        querystring: Type.Object({
          release: Type.Optional(Type.Integer({ minimum: 1 })),
          offset: Type.Integer({ minimum: 0, default: 0 }),
        }),
        response: { 200: StagingLog, ...problemResponses },
      },
    },
    (req) => stagingLog(deps.db, logsDir, callerOf(req), req.params.department, req.params.slug, req.query),
  );
};
