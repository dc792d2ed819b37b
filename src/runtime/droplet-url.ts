/**
 * Short-lived signed URLs of droplet archives: how a pod's init container fetches its droplet
 * from the control plane without an image registry and without holding a GovHost credential.
 * The URL names the droplet, its expiry and an HMAC of both under a key derived from the
 * platform's secret key (which every control-plane replica shares, so any replica can serve it).
 * The signature is not a secret to keep from the pod: it opens one droplet, for minutes.
 */
import { checkSignature, signingKey, signParts } from '../platform/signed-url.ts';

/** Default validity of a droplet URL; the Kubernetes driver re-signs at half of it. */
export const DROPLET_URL_TTL_SEC = 600;

const SHA256 = /^[0-9a-f]{64}$/;

/** The signing key of droplet URLs, derived from the platform's secret key (never the key itself). */
export const dropletUrlKey = (secretKey: Buffer): Buffer => signingKey(secretKey, 'govhost droplet url v1');

const signature = (key: Buffer, sha256: string, expires: number) => signParts(key, [sha256, String(expires)]);

/**
 * @example signDropletUrl('https://govhost.gov.example', key, sha, 600)
 *   // 'https://govhost.gov.example/api/v1/droplets/<sha>/archive?expires=1765080000&signature=…'
 */
export function signDropletUrl(
  baseUrl: string,
  key: Buffer,
  sha256: string,
  ttlSec = DROPLET_URL_TTL_SEC,
  nowMs = Date.now(),
): string {
  if (!SHA256.test(sha256)) throw new Error('a droplet is named by its sha256 (64 lower-case hex digits)');
  const expires = Math.floor(nowMs / 1000) + ttlSec;
  const url = new URL(`/api/v1/droplets/${sha256}/archive`, baseUrl);
  url.searchParams.set('expires', String(expires));
  url.searchParams.set('signature', signature(key, sha256, expires));
  return url.toString();
}

/** Whether a droplet URL's signature is good and it has not expired. */
export function checkDropletUrl(
  key: Buffer,
  sha256: string,
  expires: string | undefined,
  given: string | undefined,
  nowMs = Date.now(),
): 'ok' | 'expired' | 'invalid' {
  if (!SHA256.test(sha256)) return 'invalid';
  return checkSignature(key, [sha256], expires, given, nowMs);
}
