import { join } from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Config } from '../platform/config.ts';
import type { Db } from '../platform/database.ts';
import { problemResponses, secured } from '../platform/http-schemas.ts';
import { loadSecretBox, type SecretBox } from '../platform/secrets.ts';
import { callerOf } from '../tenancy/auth.hook.ts';
import { withOpenKeys } from './live-state.ts';
import { RouteWatch } from './route-stream.ts';

/** `GET /runtime/routes`: the route table for routers that follow the control plane (decision 023). */
export const routeStreamRoutes: FastifyPluginAsyncTypebox<{
  db: Db;
  maxWaiters: number;
  config: Config;
}> = async (app, opts) => {
  // The platform's key, loaded when a table first holds a certificate (as the runtime loads it).
  let box: SecretBox | null = null;
  const keyBox = () =>
    (box ??= loadSecretBox(join(opts.config.dataDir, 'secret.key'), opts.config.secretKey ?? undefined));
  // One watcher for every router waiting on this replica (decision 028); the table it answers
  // with holds the certificates' keys opened, the stored one sealed (decision 031).
  const watch = new RouteWatch(opts.db, opts.maxWaiters, (t) =>
    t.certificates ? withOpenKeys(t, keyBox()) : t,
  );
  app.addHook('onClose', async () => watch.close());
  app.get(
    '/runtime/routes',
    {
      schema: {
        tags: ['runtime'],
        summary: 'The route table once it is newer than a version (long poll), for routers',
        description:
          'Answers 200 with the table as soon as its version is above `after` (at once when it already is), or 204 after `waitSec` without a change. Any replica answers; one that already has GOVHOST_ROUTE_STREAM_WAITERS routers waiting answers 429 with Retry-After. Needs `routes:read`: a router token (`govhost tokens create-router`).',
        security: secured,
        querystring: Type.Object({
          after: Type.Integer({ minimum: 0, default: 0 }),
          waitSec: Type.Integer({ minimum: 0, maximum: 60, default: 25 }),
        }),
        response: {
          200: Type.Object({
            version: Type.Integer(),
            routes: Type.Array(Type.Unknown(), { description: 'as the router admin API takes them' }),
            certificates: Type.Optional(
              Type.Array(Type.Object({ id: Type.String(), chain: Type.String(), key: Type.String() }), {
                description: 'certificates the router serves by SNI: PEM chain (leaf first) and key',
              }),
            ),
          }),
          204: Type.Null({ description: 'no newer table within waitSec' }),
          ...problemResponses,
        },
      },
    },
    async (req, reply) => {
      const gone = new AbortController();
      req.raw.on('close', () => gone.abort());
      const table = await watch.next(callerOf(req), req.query.after, req.query.waitSec * 1000, gone.signal);
      reply.header('cache-control', 'no-store');
      if (!table) return reply.code(204).send(null);
      return table;
    },
  );
};
