/**
 * What a staging Job (decision 027) calls, with no token: the signed URL is the credential.
 * `GET /api/v1/bundles/:sha256/archive` serves the release's bundle; `PUT
 * /api/v1/droplets/staged/:id` takes the droplet's archive once, up to the staging's disk
 * allowance, checks the sha256 it is told against the bytes, and keeps it in the blob store for
 * the stager that waits for it (on whichever replica).
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { openBlobStores } from '../blobs/blob-stores.ts';
import { DomainError } from '../platform/errors.ts';
import { problemResponses, problems } from '../platform/http-schemas.ts';
import type { RouteDeps } from '../platform/route-deps.ts';
import { loadKey } from '../platform/secrets.ts';
import type { DropletRun } from './build.tables.ts';
import * as uploads from './staged-upload.repository.ts';
import {
  ARCHIVE_SHA256_HEADER,
  checkStagingUrl,
  DROPLET_RUN_HEADER,
  type StagingUrlKind,
  stagingUrlKey,
} from './staging-urls.ts';

const Signed = Type.Object({
  expires: Type.String({ pattern: '^[0-9]{1,12}$', description: 'Unix seconds' }),
  signature: Type.String({ maxLength: 100 }),
});

const isStrings = (v: unknown): v is Record<string, string> =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  Object.values(v).every((x) => typeof x === 'string');

/** The Job's DropletRun, or null when it is not one (it comes from the build's side: untrusted). */
export function parseDropletRun(header: string): DropletRun | null {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const r = v as Record<string, unknown>;
  const relative = (p: unknown) =>
    typeof p === 'string' && !p.startsWith('/') && !p.split('/').includes('..');
  if (!Array.isArray(r.pathPrepend) || !r.pathPrepend.every(relative)) return null;
  if (!isStrings(r.pathEnv) || !Object.values(r.pathEnv).every(relative)) return null;
  const start = r.start as { script?: unknown; env?: unknown } | undefined;
  if (start !== undefined && (typeof start.script !== 'string' || !isStrings(start.env))) return null;
  return {
    pathPrepend: r.pathPrepend as string[],
    pathEnv: r.pathEnv,
    ...(start ? { start: { script: start.script as string, env: start.env as Record<string, string> } } : {}),
  };
}

export const stagingJobRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, deps) => {
  const blobs = openBlobStores({ kind: deps.config.blobStore, dataDir: deps.config.dataDir, db: deps.db });
  let key: Buffer | null = null;
  // Read on first use: the same key file (or GOVHOST_SECRET_KEY) every replica signs with.
  const urlKey = () =>
    (key ??= stagingUrlKey(
      loadKey(join(deps.config.dataDir, 'secret.key'), deps.config.secretKey, 'GOVHOST_SECRET_KEY'),
    ));
  const check = (kind: StagingUrlKind, name: string, q: { expires: string; signature: string }) => {
    const verdict = checkStagingUrl(urlKey(), kind, name, q.expires, q.signature);
    if (verdict === 'invalid')
      throw new DomainError('GOVHOST_STAGING_URL_INVALID', `the signature does not match this ${kind} URL`);
    if (verdict === 'expired')
      throw new DomainError('GOVHOST_STAGING_URL_EXPIRED', `the ${kind} URL expired at ${q.expires}`);
  };
  // The archive is the body, read as a stream: no parser, and no limit but the upload's own.
  app.addContentTypeParser('application/x-tar', (_req, payload, done) => done(null, payload));

  app.get(
    '/bundles/:sha256/archive',
    {
      config: { public: true },
      schema: {
        tags: ['build'],
        summary:
          "A release's bundle (tar.gz), for the staging Job that builds it; the URL is signed and short-lived",
        params: Type.Object({ sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }) }),
        querystring: Signed,
        response: { ...problemResponses, ...problems(403) },
      },
    },
    async (req, reply) => {
      check('bundle', req.params.sha256, req.query);
      if (!(await blobs.bundles.has(req.params.sha256)))
        throw new DomainError('GOVHOST_NOT_FOUND', `no bundle ${req.params.sha256.slice(0, 12)}`);
      // A verified file: a corrupted bundle is an error here, never sent.
      const path = await blobs.bundles.file(req.params.sha256);
      // A byte stream: the response schemas describe only the problems.
      return reply.type('application/gzip').send(createReadStream(path) as never);
    },
  );

  app.put(
    '/droplets/staged/:id',
    {
      config: { public: true },
      schema: {
        tags: ['build'],
        summary: "A staging Job's droplet archive (tar), once per signed upload URL",
        description:
          'The archive is the body (application/x-tar); its sha256 is told in x-govhost-archive-sha256 and checked, and how the droplet runs in x-govhost-droplet-run (base64url JSON).',
        params: Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{32}$' }) }),
        querystring: Signed,
        headers: Type.Object({
          [ARCHIVE_SHA256_HEADER]: Type.String({ pattern: '^[0-9a-f]{64}$' }),
          [DROPLET_RUN_HEADER]: Type.String({ maxLength: 8192 }),
        }),
        response: {
          201: Type.Object({ sha256: Type.String(), sizeBytes: Type.Integer() }),
          ...problemResponses,
          ...problems(403, 409, 413, 415, 422),
        },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      check('upload', id, req.query);
      const run = parseDropletRun(req.headers[DROPLET_RUN_HEADER]);
      if (!run) throw new DomainError('GOVHOST_VALIDATION', `${DROPLET_RUN_HEADER} is not a droplet's run`);
      const claimed = await uploads.claimUpload(deps.db, id);
      if (claimed === 'used')
        throw new DomainError(
          'GOVHOST_STAGING_URL_USED',
          'this upload URL has been used: each takes one upload',
        );
      if (claimed === null)
        throw new DomainError('GOVHOST_NOT_FOUND', 'no such upload (its staging has ended)');
      const tooLarge = () =>
        new DomainError(
          'GOVHOST_DROPLET_TOO_LARGE',
          `the droplet archive is larger than the staging's disk allowance of ${claimed.maxBytes} bytes`,
          { maxBytes: claimed.maxBytes },
        );
      const declared = Number(req.headers['content-length'] ?? Number.NaN);
      if (declared > claimed.maxBytes) throw tooLarge();
      let size = 0;
      let over: DomainError | null = null;
      const meter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          size += chunk.length;
          // Cut off here, not after the whole body has been read and thrown away.
          if (size <= claimed.maxBytes) return done(null, chunk);
          over = tooLarge();
          done(over);
        },
      });
      const body = req.body as NodeJS.ReadableStream;
      // Piped, not `pipeline`d: a body past the limit is left unread (and the connection closed
      // after the answer) rather than destroyed, which would cut the connection before the 413.
      body.on('error', (err) => meter.destroy(err));
      // The store may start reading after the limit has been passed: the error is kept in `over`.
      meter.on('error', () => {});
      body.pipe(meter);
      const got = await blobs.droplets.put(meter).catch((err: unknown) => {
        body.unpipe(meter);
        void reply.header('connection', 'close');
        throw over ?? err;
      });
      const told = req.headers[ARCHIVE_SHA256_HEADER];
      // The blob stays until collection (another droplet may have the same bytes): it is named
      // by no upload, and so by no droplet.
      if (got.sha256 !== told)
        throw new DomainError(
          'GOVHOST_DROPLET_SHA256_MISMATCH',
          `the archive's bytes hash to ${got.sha256}, not ${told}`,
          { sha256: got.sha256 },
        );
      await uploads.completeUpload(deps.db, id, { blobSha256: got.sha256, sizeBytes: got.sizeBytes, run });
      return reply.code(201).send({ sha256: got.sha256, sizeBytes: got.sizeBytes });
    },
  );
};
