import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { auditRoutes } from '../audit/audit.routes.ts';
import { backupRoutes } from '../backup/backup.routes.ts';
import { buildRoutes } from '../build/build.routes.ts';
import { stagingJobRoutes } from '../build/staging-job.routes.ts';
import { capacityRoutes } from '../capacity/capacity.routes.ts';
import { capacityReportRoutes } from '../capacity/reports.routes.ts';
import { catalogRoutes } from '../catalog/catalog.routes.ts';
import { registerConsole } from '../console/console.static.ts';
import { sessionRoutes } from '../console/session.routes.ts';
import { acmeRoutes } from '../edge/acme.routes.ts';
import { certificateRoutes } from '../edge/certificates.routes.ts';
import { domainRoutes } from '../edge/domains.routes.ts';
import { financeRoutes } from '../finance/finance.routes.ts';
import { cutoverRoutes } from '../migration/cutover.routes.ts';
import { migrationRoutes } from '../migration/migration.routes.ts';
import { alertingRoutes } from '../monitoring/alerting.routes.ts';
import { metricsRoutes, prometheusRoutes } from '../monitoring/metrics.routes.ts';
import { statusRoutes } from '../monitoring/status.routes.ts';
import { registerPayHost } from '../payments/hosted-page.routes.ts';
import { paymentRoutes } from '../payments/payments.routes.ts';
import { httpProvider } from '../payments/provider.ts';
import { reconciliationRoutes } from '../payments/reconcile.routes.ts';
import { paymentStaffRoutes } from '../payments/staff.routes.ts';
import { staffPaymentRoutes } from '../payments/staff-payments.routes.ts';
import { paymentWebhookRoutes } from '../payments/webhook.routes.ts';
import { lazySerializers } from '../platform/lazy-serializer.ts';
import { finishOpenApi } from '../platform/openapi-document.ts';
import { frameworkErrors, MAX_PARAM_LENGTH, registerProblemHandler } from '../platform/problem.ts';
import { serializeRequest } from '../platform/request-log.ts';
import { validatorCompiler } from '../platform/validation.ts';
import { requestRoutes } from '../provisioning/request.routes.ts';
import { dropletRoutes } from '../runtime/droplet.routes.ts';
import { routeStreamRoutes } from '../runtime/route-stream.routes.ts';
import { runtimeRoutes } from '../runtime/runtime.routes.ts';
import { ticketRoutes } from '../support/ticket.routes.ts';
import { registerAuth } from '../tenancy/auth.hook.ts';
import { signInRoutes } from '../tenancy/sign-in.routes.ts';
import { tenancyRoutes } from '../tenancy/tenancy.routes.ts';
import type { AppDeps } from './app-deps.ts';

const VERSION = '0.1.0';

export interface BuildOptions {
  /** A pino logger config, or false for none (tests). */
  logger?: boolean | { level: string };
  /** The built web console to serve at `/` (default: console/dist of this checkout). */
  consoleDir?: string;
}

/** Builds the HTTP application; `server.ts` runs it. Tests call this and use `app.inject()`. */
export async function buildApp(deps: AppDeps, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    // Request lines go through our serializer: query-string credentials never reach the log.
    logger:
      opts.logger === false
        ? false
        : {
            level: deps.config.logLevel,
            ...(typeof opts.logger === 'object' ? opts.logger : {}),
            serializers: { req: serializeRequest },
          },
    bodyLimit: deps.config.bodyLimit,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    schemaController: { compilersFactory: { buildSerializer: lazySerializers } },
    frameworkErrors,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      // Keep a caller's id when it looks like one, so logs line up across systems.
      return typeof given === 'string' && /^[A-Za-z0-9._-]{8,64}$/.test(given) ? given : randomUUID();
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  registerProblemHandler(app);
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'GovHost API',
        version: VERSION,
        description:
          'Central hosting platform for e-government services. Authenticate with `Authorization: Bearer <token>`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    transformObject: (documentObject) =>
      finishOpenApi(
        'openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject,
      ),
  });
  // swagger-ui's own routes are public documentation pages.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/api/v1/docs')) route.config = { ...(route.config ?? {}), public: true };
  });
  await app.register(swaggerUi, { routePrefix: '/api/v1/docs', uiConfig: { docExpansion: 'list' } });

  // The payment host serves the hosted payment page and nothing else (decision 043).
  await registerPayHost(app, deps);
  registerAuth(app, deps.db);

  app.get('/healthz', { config: { public: true }, schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { config: { public: true }, schema: { hide: true } }, async (_req, reply) => {
    try {
      await sql`select 1`.execute(deps.db);
      return { status: 'ready' };
    } catch {
      return reply.status(503).send({ status: 'database unavailable' });
    }
  });
  app.get('/api/v1/openapi.json', { config: { public: true }, schema: { hide: true } }, async () =>
    app.swagger(),
  );

  const engine = () => deps.monitoring ?? null;
  await app.register(prometheusRoutes, { db: deps.db, engine });
  await app.register(
    async (api) => {
      await api.register(tenancyRoutes, deps);
      await api.register(sessionRoutes, deps);
      await api.register(signInRoutes, deps);
      await api.register(catalogRoutes, deps);
      await api.register(auditRoutes, deps);
      await api.register(alertingRoutes, deps);
      await api.register(requestRoutes, deps);
      await api.register(capacityRoutes, deps);
      // A getter: the runtime starts after the app is built, with the app's logger.
      await api.register(runtimeRoutes, {
        db: deps.db,
        runtime: () => deps.runtime ?? null,
        bundleLimit: deps.config.bundleLimit,
      });
      await api.register(routeStreamRoutes, {
        db: deps.db,
        maxWaiters: deps.config.routeStreamWaiters,
        config: deps.config,
      });
      await api.register(buildRoutes, deps);
      await api.register(dropletRoutes, deps);
      await api.register(stagingJobRoutes, deps);
      await api.register(metricsRoutes, { db: deps.db, engine });
      await api.register(capacityReportRoutes, deps);
      await api.register(backupRoutes, deps);
      await api.register(certificateRoutes, deps);
      await api.register(acmeRoutes, deps);
      await api.register(domainRoutes, deps);
      await api.register(migrationRoutes, deps);
      await api.register(ticketRoutes, deps);
      await api.register(financeRoutes, deps);
      await api.register(cutoverRoutes, {
        db: deps.db,
        config: deps.config,
        onEdgeChange: async () => deps.onEdgeChange?.(),
        watch: () => deps.cutoverWatch ?? null,
      });
      // Asked at each request: the runtime (and its router) starts after the routes, and a test may
      // set it later.
      const routerTrust = () => deps.routerTrust?.() ?? null;
      await api.register(paymentRoutes, {
        ...deps,
        paymentProvider: deps.config.paymentsSandboxUrl ? httpProvider(deps.config.paymentsSandboxUrl) : null,
        routerTrust,
      });
      await api.register(paymentStaffRoutes, { ...deps, routerTrust });
      await api.register(paymentWebhookRoutes, { ...deps, routerTrust });
      await api.register(reconciliationRoutes, {
        ...deps,
        paymentProvider: deps.config.paymentsSandboxUrl ? httpProvider(deps.config.paymentsSandboxUrl) : null,
      });
      await api.register(staffPaymentRoutes, {
        ...deps,
        paymentProvider: deps.config.paymentsSandboxUrl ? httpProvider(deps.config.paymentsSandboxUrl) : null,
      });
    },
    { prefix: '/api/v1' },
  );
  // The public status page at /status, and maintenance and SLA reports under /api/v1.
  await app.register(statusRoutes, deps);
  registerConsole(app, opts.consoleDir);
  return app;
}
