import type { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ServiceParams } from '../catalog/catalog.schema.ts';
import type { Db } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { DepartmentCode, problemResponses, problems, secured, Uuid } from '../platform/http-schemas.ts';
import { PageQuery, PageSchema } from '../platform/pagination.ts';
import { callerOf } from '../tenancy/auth.hook.ts';
import { logStream } from './logs.ts';
import type { RuntimeDeps } from './runtime.logic.ts';
import * as runtime from './runtime.logic.ts';
import * as S from './runtime.schema.ts';

/** Deploys, releases, environment, scaling, status and logs of services. */
export const runtimeRoutes: FastifyPluginAsyncTypebox<{
  db: Db;
  runtime: () => RuntimeDeps | null;
  bundleLimit: number;
}> = async (app, opts) => {
  const tags = ['runtime'];
  const deps = () => {
    const r = opts.runtime();
    if (!r) throw new DomainError('GOVHOST_NOT_READY', 'this platform process runs no runtime');
    return r;
  };
  // Bundles arrive as a raw gzip stream; the logic stores it while counting and hashing.
  app.addContentTypeParser(
    ['application/gzip', 'application/x-gzip', 'application/octet-stream'],
    (_req, payload, done) => done(null, payload),
  );
  const base = '/services/:department/:slug';

  app.get(
    '/runtime/services',
    {
      schema: {
        tags,
        summary: "Every service's live state in one answer (desired and running instances, release)",
        description: 'Same filters, order and paging as GET /services; a department user sees its own.',
        security: secured,
        querystring: Type.Object({ ...PageQuery, department: Type.Optional(DepartmentCode) }),
        response: { 200: PageSchema(S.ServiceSummary), ...problemResponses },
      },
    },
    (req) => {
      const { department, ...page } = req.query;
      return runtime.summaries(deps(), callerOf(req), page, department ? { department } : {});
    },
  );

  app.post(
    `${base}/deployments`,
    {
      bodyLimit: opts.bundleLimit,
      schema: {
        tags,
        summary: 'Deploy a bundle (a tar.gz of the app folder, sent as application/gzip)',
        description: 'Answers 202 at once with the deployment to follow; the rollout runs in the background.',
        security: secured,
        params: ServiceParams,
        querystring: Type.Object({
          noCache: Type.Optional(
            Type.Boolean({
              description:
                'install dependencies afresh: the dependency cache is not read (it is refreshed), and an identical bundle is staged again',
            }),
          ),
        }),
        response: {
          202: Type.Object({
            deployment: S.Deployment,
            release: S.Release,
            builder: Type.String({ description: 'the builder chosen and what it will do' }),
            warnings: Type.Array(Type.String()),
          }),
          // The bundle is the body, outside the document's JSON schemas: too large, not gzip, not deployable.
          ...problems(413, 415, 422),
          ...problemResponses,
        },
      },
    },
    async (req, reply) => {
      const body = req.body as Readable | undefined;
      if (!body || typeof (body as Readable).pipe !== 'function') {
        throw new DomainError(
          'GOVHOST_UNSUPPORTED_MEDIA_TYPE',
          'send the bundle as Content-Type: application/gzip',
        );
      }
      const p = req.params;
      return reply.status(202).send(
        await runtime.deploy(deps(), callerOf(req), p.department, p.slug, body, {
          noCache: req.query.noCache === true,
        }),
      );
    },
  );

  app.get(
    `${base}/deployments`,
    {
      schema: {
        tags,
        summary: 'Deploy history (deploys, rollbacks, environment changes, scaling), newest first',
        security: secured,
        params: ServiceParams,
        querystring: Type.Object(PageQuery),
        response: { 200: PageSchema(S.Deployment), ...problemResponses },
      },
    },
    (req) => runtime.deployments(opts.db, callerOf(req), req.params.department, req.params.slug, req.query),
  );

  app.get(
    `${base}/deployments/:id`,
    {
      schema: {
        tags,
        summary: 'Follow a deployment',
        security: secured,
        params: Type.Object({ ...ServiceParams.properties, id: Uuid }),
        response: { 200: S.Deployment, ...problemResponses },
      },
    },
    (req) => runtime.deployment(deps(), callerOf(req), req.params.department, req.params.slug, req.params.id),
  );

  app.get(
    `${base}/releases`,
    {
      schema: {
        tags,
        summary: 'Release history, newest first',
        security: secured,
        params: ServiceParams,
        response: { 200: Type.Object({ items: Type.Array(S.Release) }), ...problemResponses },
      },
    },
    async (req) => ({
      items: await runtime.releases(deps(), callerOf(req), req.params.department, req.params.slug),
    }),
  );

  app.post(
    `${base}/rollback`,
    {
      schema: {
        tags,
        summary: 'Roll back code and configuration to an earlier release',
        security: secured,
        params: ServiceParams,
        body: S.Rollback,
        response: { 202: Type.Object({ deployment: S.Deployment, release: S.Release }), ...problemResponses },
      },
    },
    async (req, reply) =>
      reply
        .status(202)
        .send(
          await runtime.rollback(deps(), callerOf(req), req.params.department, req.params.slug, req.body.to),
        ),
  );

  app.get(
    `${base}/env`,
    {
      schema: {
        tags,
        summary: 'Environment variables (secrets masked)',
        security: secured,
        params: ServiceParams,
        response: { 200: Type.Object({ items: Type.Array(S.Variable) }), ...problemResponses },
      },
    },
    async (req) => ({
      items: await runtime.listEnv(deps(), callerOf(req), req.params.department, req.params.slug),
    }),
  );

  app.patch(
    `${base}/env`,
    {
      schema: {
        tags,
        summary: 'Set or unset variables; a deployed service gets a new release with them',
        security: secured,
        params: ServiceParams,
        body: S.EnvChange,
        response: {
          200: Type.Object({
            variables: Type.Array(S.Variable),
            deployment: Type.Union([S.Deployment, Type.Null()]),
          }),
          ...problemResponses,
        },
      },
    },
    (req) => {
      const secret = req.body.secret ?? false;
      const set = Object.entries(req.body.set ?? {}).map(([key, value]) => ({ key, value, secret }));
      return runtime.changeEnv(deps(), callerOf(req), req.params.department, req.params.slug, {
        set,
        unset: req.body.unset ?? [],
      });
    },
  );

  app.post(
    `${base}/scale`,
    {
      schema: {
        tags,
        summary: 'Change the number of instances and/or their memory',
        security: secured,
        params: ServiceParams,
        body: S.Scale,
        response: { 202: S.Deployment, ...problemResponses },
      },
    },
    async (req, reply) =>
      reply
        .status(202)
        .send(await runtime.scale(deps(), callerOf(req), req.params.department, req.params.slug, req.body)),
  );

  app.get(
    `${base}/status`,
    {
      schema: {
        tags,
        summary: 'Instances, release, health and restarts',
        security: secured,
        params: ServiceParams,
        response: { 200: S.Status, ...problemResponses },
      },
    },
    (req) => runtime.status(deps(), callerOf(req), req.params.department, req.params.slug),
  );

  app.get(
    `${base}/logs`,
    {
      schema: {
        tags,
        summary: "The instances' output, as text; with follow=true it streams new lines",
        security: secured,
        params: ServiceParams,
        querystring: Type.Object({
          tail: Type.Integer({ minimum: 0, maximum: 10000, default: 100 }),
          follow: Type.Boolean({ default: false }),
        }),
      },
    },
    async (req, reply) => {
      const files = await runtime.logFiles(deps(), callerOf(req), req.params.department, req.params.slug);
      const abort = new AbortController();
      req.raw.on('close', () => abort.abort());
      const stream = logStream(files, {
        tail: req.query.tail,
        follow: req.query.follow,
        signal: abort.signal,
      });
      return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(stream);
    },
  );
};
