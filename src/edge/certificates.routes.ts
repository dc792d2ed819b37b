import { join } from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ServiceParams } from '../catalog/catalog.schema.ts';
import { problemResponses, problems, secured } from '../platform/http-schemas.ts';
import type { RouteDeps } from '../platform/route-deps.ts';
import { loadSecretBox, type SecretBox } from '../platform/secrets.ts';
import { callerOf } from '../tenancy/auth.hook.ts';
import * as certs from './certificates.logic.ts';
import * as S from './certificates.schema.ts';
import { getServiceHttps, setServiceHttps } from './service-https.logic.ts';

/**
 * What a change at the edge must also do: the composition root gives the runtime's, which
 * publishes the route table again (at once on the runtime's replica, by notification elsewhere).
 */
export interface EdgeRouteDeps {
  onEdgeChange?: () => Promise<void>;
}

/** Certificates under /api/v1/certificates and each service's HTTPS settings (decision 031). */
export const certificateRoutes: FastifyPluginAsyncTypebox<RouteDeps & EdgeRouteDeps> = async (
  app,
  appDeps,
) => {
  const { db, config } = appDeps;
  let box: SecretBox | null = null;
  const deps: certs.CertificateDeps = {
    db,
    // Loaded on first use, as the runtime loads it: the same key file or GOVHOST_SECRET_KEY.
    get box() {
      box ??= loadSecretBox(join(config.dataDir, 'secret.key'), config.secretKey ?? undefined);
      return box;
    },
    changed: async () => appDeps.onEdgeChange?.(),
  };
  const tags = ['edge'];

  app.post(
    '/certificates',
    {
      schema: {
        tags,
        summary: 'Upload a certificate chain and its key (platform operators)',
        description:
          'Checked before it is stored: readable PEM (else 400), then the key matches the leaf, each certificate is issued and signed by the next, all are valid now, the leaf names DNS hosts, the key is RSA ≥ 2048 or ECDSA P-256/P-384, and it covers `host` when given (else 422). The problem’s `reason` names the check. The key is sealed at rest and never shown again.',
        security: secured,
        body: S.NewCertificate,
        response: { 201: S.Certificate, ...problems(409, 422), ...problemResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await certs.addCertificate(deps, callerOf(req), req.body)),
  );

  app.get(
    '/certificates',
    {
      schema: {
        tags,
        summary: 'List certificates (never their keys), soonest expiry first',
        security: secured,
        response: { 200: Type.Object({ items: Type.Array(S.Certificate) }), ...problemResponses },
      },
    },
    async (req) => ({ items: await certs.listCertificates(deps, callerOf(req)) }),
  );

  app.get(
    '/certificates/:id',
    {
      schema: {
        tags,
        summary: 'Show a certificate (never its key)',
        security: secured,
        params: S.CertificateParams,
        response: { 200: S.Certificate, ...problemResponses },
      },
    },
    (req) => certs.getCertificate(deps, callerOf(req), req.params.id),
  );

  app.delete(
    '/certificates/:id',
    {
      schema: {
        tags,
        summary: 'Remove a certificate: routers stop serving it with the next route table',
        security: secured,
        params: S.CertificateParams,
        response: { 200: S.Certificate, ...problemResponses },
      },
    },
    (req) => certs.removeCertificate(deps, callerOf(req), req.params.id),
  );

  app.get(
    '/services/:department/:slug/https',
    {
      schema: {
        tags,
        summary: "A service's HTTPS settings: redirect to HTTPS and HSTS (both on by default)",
        security: secured,
        params: ServiceParams,
        response: { 200: S.ServiceHttps, ...problemResponses },
      },
    },
    (req) => getServiceHttps(db, callerOf(req), req.params.department, req.params.slug),
  );

  app.patch(
    '/services/:department/:slug/https',
    {
      schema: {
        tags,
        summary: "Change a service's HTTPS settings (its department's admins and developers)",
        security: secured,
        params: ServiceParams,
        body: S.ServiceHttpsPatch,
        response: { 200: S.ServiceHttps, ...problemResponses },
      },
    },
    (req) => setServiceHttps(deps, callerOf(req), req.params.department, req.params.slug, req.body),
  );
};
