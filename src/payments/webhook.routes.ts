import { join } from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { problemResponses, problems, secured } from '../platform/http-schemas.ts';
import type { RouteDeps } from '../platform/route-deps.ts';
import { loadSecretBox, type SecretBox } from '../platform/secrets.ts';
import { callerOf } from '../tenancy/auth.hook.ts';
import type { RouterTrust } from './live-mode.ts';
import { ServiceParams } from './payments.schema.ts';
import * as logic from './webhook.logic.ts';

const PaymentWebhook = Type.Object({
  service: Type.String(),
  url: Type.String(),
  updatedBy: Type.String(),
  updatedAt: Type.String({ format: 'date-time' }),
});
const Secret = Type.Union([Type.String(), Type.Null()], {
  description: 'The signing secret: in the answer that makes it only (a first set or a rotation)',
});
const SetWebhook = Type.Object(
  {
    url: Type.String({
      format: 'uri',
      pattern: '^https?://',
      maxLength: 2000,
      description:
        "On one of the service's own host names (else 422); delivered through the router, https through its TLS listener. An http URL of a service that redirects to HTTPS is refused (422)",
    }),
  },
  { additionalProperties: false },
);

/**
 * A service's payment webhook (decision 047): set or changed and its secret rotated by the
 * department's admins and developers; seen by its department; never the secret after it is made.
 */
export const paymentWebhookRoutes: FastifyPluginAsyncTypebox<
  RouteDeps & { routerTrust?: () => RouterTrust | null }
> = async (app, { db, config, routerTrust }) => {
  const tags = ['payments'];
  const path = '/services/:department/:slug/payment-webhook';
  let box: SecretBox | null = null;
  const deps = {
    db,
    config,
    routerTrust,
    // The runtime's key, read on first use, as the alerting routes do.
    get box() {
      box ??= loadSecretBox(join(config.dataDir, 'secret.key'), config.secretKey ?? undefined);
      return box;
    },
  };
  const answer = Type.Object({ webhook: PaymentWebhook, secret: Secret });

  app.get(
    path,
    {
      schema: {
        tags,
        summary: "The service's payment webhook (never its secret)",
        security: secured,
        params: ServiceParams,
        response: { 200: PaymentWebhook, ...problemResponses },
      },
    },
    (req) => logic.getWebhook(deps, callerOf(req), req.params.department, req.params.slug),
  );

  app.put(
    path,
    {
      schema: {
        tags,
        summary: "Set the service's payment webhook URL; a first set answers the signing secret, once",
        security: secured,
        params: ServiceParams,
        body: SetWebhook,
        response: { 200: answer, ...problems(422), ...problemResponses },
      },
    },
    (req) =>
      logic.setWebhook(deps, callerOf(req), req.params.department, req.params.slug, { url: req.body.url }),
  );

  app.post(
    `${path}/rotate-secret`,
    {
      schema: {
        tags,
        summary: 'Make a new signing secret for the payment webhook; it is in this answer only',
        security: secured,
        params: ServiceParams,
        response: { 200: answer, ...problemResponses },
      },
    },
    (req) => logic.setWebhook(deps, callerOf(req), req.params.department, req.params.slug, { rotate: true }),
  );

  app.delete(
    path,
    {
      schema: {
        tags,
        summary: "Remove the service's payment webhook",
        security: secured,
        params: ServiceParams,
        response: { 204: Type.Null(), ...problemResponses },
      },
    },
    async (req, reply) => {
      await logic.removeWebhook(deps, callerOf(req), req.params.department, req.params.slug);
      return reply.status(204).send(null);
    },
  );
};
