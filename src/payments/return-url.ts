import { serviceById } from '../catalog/service.logic.ts';
import { approvedHostnames } from '../edge/domains.logic.ts';
import type { Db } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import type { ServiceKey } from './keys.logic.ts';

/**
 * A payment's return URL must be on one of the service's own host names: its platform name or a
 * custom domain approved for it (decision 043). The citizen is sent there after paying, so an
 * arbitrary URL would make the payment host an open redirect. Test keys may use `http:` (a
 * platform without a certificate); live keys need `https:`.
 */
export async function checkReturnUrl(db: Db, domain: string, key: ServiceKey, returnUrl: string) {
  let url: URL;
  try {
    url = new URL(returnUrl);
  } catch {
    throw new DomainError('GOVHOST_PAYMENT_RETURN_URL', `${returnUrl} is not a URL`);
  }
  const schemes = key.mode === 'live' ? ['https:'] : ['https:', 'http:'];
  if (!schemes.includes(url.protocol) || url.username || url.password)
    throw new DomainError(
      'GOVHOST_PAYMENT_RETURN_URL',
      `the return URL must be ${key.mode === 'live' ? 'https' : 'http or https'}, without user or password`,
    );
  const service = await serviceById(db, key.serviceId, domain);
  const own = [service?.hostname, ...((await approvedHostnames(db)).get(key.serviceId) ?? [])];
  if (!own.includes(url.hostname))
    throw new DomainError(
      'GOVHOST_PAYMENT_RETURN_URL',
      `the return URL's host ${url.hostname} is not one of the service's own: ${own.filter(Boolean).join(', ')}`,
    );
}
