/**
 * Short-lived signed URLs: a path names what it opens, its expiry (Unix seconds) and an HMAC of
 * both under a key derived from the platform's secret key (which every control-plane replica
 * shares, so any replica checks what another signed). Used by droplet URLs for pods and by the
 * bundle and upload URLs of staging Jobs: the holder needs no GovHost credential, and the
 * signature opens one thing, for minutes.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** A signing key for one use of signed URLs, derived from the platform's secret key (never the key itself). */
export function signingKey(secretKey: Buffer, purpose: string): Buffer {
  return createHmac('sha256', secretKey).update(purpose).digest();
}

/** The signature of `parts` (what the URL names, its expiry last). */
export const signParts = (key: Buffer, parts: readonly string[]) =>
  createHmac('sha256', key).update(parts.join('\n')).digest('base64url');

/**
 * Whether `given` signs `parts` followed by `expires`, and the URL is still valid; compared in
 * constant time. `expires` is checked for shape here: the caller's schema may be looser.
 */
export function checkSignature(
  key: Buffer,
  parts: readonly string[],
  expires: string | undefined,
  given: string | undefined,
  nowMs = Date.now(),
): 'ok' | 'expired' | 'invalid' {
  if (!expires || !/^\d{1,12}$/.test(expires) || !given) return 'invalid';
  const want = Buffer.from(signParts(key, [...parts, String(Number(expires))]));
  const got = Buffer.from(given);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return 'invalid';
  return Number(expires) * 1000 < nowMs ? 'expired' : 'ok';
}
