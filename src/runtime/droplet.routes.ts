/**
 * `GET /api/v1/droplets/:sha256/archive`: a droplet's archive for a pod's init container. No
 * token: the signed, short-lived URL is the credential (see droplet-url.ts). The archive's
 * sha256 is sent as a header too, though the pod checks the sum its Deployment names.
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { buildPaths } from '../build/build.logic.ts';
import { dropletArchive } from '../build/droplet-archive.ts';
import { DomainError } from '../platform/errors.ts';
import { problemResponses, problems } from '../platform/http-schemas.ts';
import type { RouteDeps } from '../platform/route-deps.ts';
import { loadKey } from '../platform/secrets.ts';
import { checkDropletUrl, dropletUrlKey } from './droplet-url.ts';

export const DROPLET_SHA256_HEADER = 'x-govhost-archive-sha256';

export const dropletRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, deps) => {
  const { dropletsDir } = buildPaths(deps.config.dataDir);
  let key: Buffer | null = null;
  // Read on first use: the same key file (or GOVHOST_SECRET_KEY) the runtime seals secrets with.
  const urlKey = () =>
    (key ??= dropletUrlKey(
      loadKey(join(deps.config.dataDir, 'secret.key'), deps.config.secretKey, 'GOVHOST_SECRET_KEY'),
    ));
  app.get(
    '/droplets/:sha256/archive',
    {
      config: { public: true },
      schema: {
        tags: ['runtime'],
        summary: "A droplet's archive (tar.gz), for a pod that runs it; the URL is signed and short-lived",
        params: Type.Object({ sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }) }),
        querystring: Type.Object({
          expires: Type.String({ pattern: '^[0-9]{1,12}$', description: 'Unix seconds' }),
          signature: Type.String({ maxLength: 100 }),
        }),
        // No token, so 403 is not derived: it answers a bad or expired signature.
        response: { ...problemResponses, ...problems(403, 503) },
      },
    },
    async (req, reply) => {
      const { sha256 } = req.params;
      const verdict = checkDropletUrl(urlKey(), sha256, req.query.expires, req.query.signature);
      if (verdict === 'invalid')
        throw new DomainError('GOVHOST_DROPLET_URL_INVALID', 'the signature does not match this droplet URL');
      if (verdict === 'expired')
        throw new DomainError('GOVHOST_DROPLET_URL_EXPIRED', `the URL expired at ${req.query.expires}`);
      // Pods that start together ask together: they share one build, and past the bound of
      // concurrent builds they are asked to come back (503 with Retry-After).
      const archive = await dropletArchive(dropletsDir, sha256, { refuseWhenBusy: true });
      if (!archive) throw new DomainError('GOVHOST_NOT_FOUND', `no droplet ${sha256.slice(0, 12)}`);
      return (
        reply
          .type('application/gzip')
          .header('content-length', archive.size)
          .header(DROPLET_SHA256_HEADER, archive.sha256)
          // A byte stream: the response schemas describe only the problems, so the type provider
          // would take the archive for one.
          .send(createReadStream(archive.path) as never)
      );
    },
  );
};
