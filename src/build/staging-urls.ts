/**
 * The signed URLs of a staging Job (decision 027), in the droplet URLs' HMAC scheme under a key
 * of their own: one to fetch the release's bundle (`GET /api/v1/bundles/:sha256/archive`), one
 * to upload the droplet's archive once (`PUT /api/v1/droplets/staged/:id`). The Job holds no
 * GovHost credential: these open one bundle and one upload, for the staging's time.
 */
import { checkSignature, signingKey, signParts } from '../platform/signed-url.ts';

export const stagingUrlKey = (secretKey: Buffer): Buffer => signingKey(secretKey, 'govhost staging url v1');

/** The header that tells the sha256 of an uploaded droplet archive (checked against its bytes). */
export const ARCHIVE_SHA256_HEADER = 'x-govhost-archive-sha256';
/** The header that tells how the droplet runs (its DropletRun, as JSON). */
export const DROPLET_RUN_HEADER = 'x-govhost-droplet-run';

export type StagingUrlKind = 'bundle' | 'upload';

const pathOf = (kind: StagingUrlKind, name: string) =>
  kind === 'bundle' ? `/api/v1/bundles/${name}/archive` : `/api/v1/droplets/staged/${name}`;

/**
 * @example signStagingUrl('http://govhost-api.govhost.svc:8080', key, 'bundle', sha, 900)
 *   // 'http://…/api/v1/bundles/<sha>/archive?expires=…&signature=…'
 */
export function signStagingUrl(
  baseUrl: string,
  key: Buffer,
  kind: StagingUrlKind,
  name: string,
  ttlSec: number,
  nowMs = Date.now(),
): string {
  const expires = Math.floor(nowMs / 1000) + ttlSec;
  const url = new URL(pathOf(kind, name), baseUrl);
  url.searchParams.set('expires', String(expires));
  url.searchParams.set('signature', signParts(key, [kind, name, String(expires)]));
  return url.toString();
}

export const checkStagingUrl = (
  key: Buffer,
  kind: StagingUrlKind,
  name: string,
  expires: string | undefined,
  signature: string | undefined,
  nowMs = Date.now(),
) => checkSignature(key, [kind, name], expires, signature, nowMs);
