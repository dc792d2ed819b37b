import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ServiceParams } from '../catalog/catalog.schema.ts';
import type { Db } from '../platform/database.ts';
import { problemResponses, secured } from '../platform/http-schemas.ts';
import { callerOf } from '../tenancy/auth.hook.ts';
import { authorize, departmentScope } from '../tenancy/principal.ts';
import type { MonitoringEngine } from './engine.ts';
import { serviceMetrics } from './metrics.logic.ts';
import * as S from './metrics.schema.ts';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from './prometheus.ts';

interface Opts {
  db: Db;
  /** A getter: the engine starts after the app is built. */
  engine: () => MonitoringEngine | null;
}

/** `GET /services/:department/:slug/metrics` under /api/v1. */
export const metricsRoutes: FastifyPluginAsyncTypebox<Opts> = async (app, opts) => {
  app.get(
    '/services/:department/:slug/metrics',
    {
      schema: {
        tags: ['monitoring'],
        summary: "A service's metrics over a time range, and its live state",
        description:
          'Per step: requests by status class, 5xx rate, latency p50/p95/p99 (histograms merged exactly), probe success; per instance: CPU, memory, restarts. Default: the last hour in 60 s steps.',
        security: secured,
        params: ServiceParams,
        querystring: S.MetricsQuery,
        response: { 200: S.ServiceMetrics, ...problemResponses },
      },
    },
    (req) =>
      serviceMetrics(
        { db: opts.db, engine: opts.engine() },
        callerOf(req),
        req.params.department,
        req.params.slug,
        req.query,
      ),
  );
};

/** `GET /metrics`: Prometheus exposition of the caller's department's services (all for operators). */
export const prometheusRoutes: FastifyPluginAsyncTypebox<Opts> = async (app, opts) => {
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['monitoring'],
        summary: 'Prometheus metrics (text format 0.0.4) of the services the caller may see',
        description:
          'Scrape with `authorization: { credentials: <API token> }`. Labels: department, service, and instance, class, le where they apply.',
        security: secured,
        response: { 200: Type.String({ description: 'Prometheus text exposition format 0.0.4' }) },
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      authorize(caller, 'monitoring:read');
      const engine = opts.engine();
      const text = renderPrometheus(engine ? engine.exposition(departmentScope(caller)) : []);
      return reply.type(PROMETHEUS_CONTENT_TYPE).header('cache-control', 'no-store').send(text);
    },
  );
};
