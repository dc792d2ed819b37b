import { serviceById } from '../catalog/service.logic.ts';
import { approvedHostnames } from '../edge/domains.logic.ts';
import type { Db } from '../platform/database.ts';
import { DomainError, type ErrorCode } from '../platform/errors.ts';
import type { ServiceKey } from './keys.logic.ts';

/**
 * Checks that `raw` is a URL on one of the service's own host names: its platform name or a
 * custom domain approved for it (decision 043), `https:` (or also `http:` when `httpsOnly` is
 * false) and without user or password; otherwise a `code` problem naming `what` it is.
 */
export async function checkOwnHostUrl(
  db: Db,
  domain: string,
  serviceId: string,
  raw: string,
  opts: { httpsOnly: boolean; code: ErrorCode; what: string },
): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DomainError(opts.code, `${raw} is not a URL`);
  }
  const schemes = opts.httpsOnly ? ['https:'] : ['https:', 'http:'];
  if (!schemes.includes(url.protocol) || url.username || url.password)
    throw new DomainError(
      opts.code,
      `the ${opts.what} must be ${opts.httpsOnly ? 'https' : 'http or https'}, without user or password`,
    );
  const service = await serviceById(db, serviceId, domain);
  const own = [service?.hostname, ...((await approvedHostnames(db)).get(serviceId) ?? [])];
  if (!own.includes(url.hostname))
    throw new DomainError(
      opts.code,
      `the ${opts.what}'s host ${url.hostname} is not one of the service's own: ${own.filter(Boolean).join(', ')}`,
    );
  return url;
}

/**
 * A payment's return URL must be on one of the service's own host names: the citizen is sent there
 * after paying, so an arbitrary URL would make the payment host an open redirect. Test keys may
 * use `http:` (a platform without a certificate); live keys need `https:`.
 */
export async function checkReturnUrl(db: Db, domain: string, key: ServiceKey, returnUrl: string) {
  await checkOwnHostUrl(db, domain, key.serviceId, returnUrl, {
    httpsOnly: key.mode === 'live',
    code: 'GOVHOST_PAYMENT_RETURN_URL',
    what: 'return URL',
  });
}
