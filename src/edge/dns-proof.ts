import { Resolver } from 'node:dns/promises';
import { DomainError } from '../platform/errors.ts';

/** The TXT record whose value proves that whoever claims `hostname` controls its DNS. */
export const challengeName = (hostname: string) => `_govhost-challenge.${hostname}`;

/** DNS answers that mean "no such record" rather than "the lookup failed". */
const NO_RECORD = new Set(['ENODATA', 'ENOTFOUND', 'NXDOMAIN']);

/**
 * Asks DNS for `_govhost-challenge.<hostname>` and throws GOVHOST_DOMAIN_DNS_CHECK_FAILED, saying
 * what was found, unless one TXT record equals `token`. `resolver` is `host:port` (null: the
 * system's resolvers).
 */
export async function checkTxtProof(hostname: string, token: string, resolver: string | null): Promise<void> {
  const name = challengeName(hostname);
  // One try with a short timeout: an operator waits on this answer.
  const dns = new Resolver({ timeout: 3000, tries: 2 });
  if (resolver) dns.setServers([resolver]);
  let records: string[];
  try {
    // A long TXT value arrives in 255-byte strings: joined, as RFC 7208 reads them.
    records = (await dns.resolveTxt(name)).map((chunks) => chunks.join(''));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    if (!NO_RECORD.has(code)) {
      throw new DomainError(
        'GOVHOST_DOMAIN_DNS_CHECK_FAILED',
        `the TXT lookup of ${name} failed (${code}${resolver ? ` at ${resolver}` : ''}): try again once DNS answers`,
        { expected: token, found: [] },
      );
    }
    records = [];
  }
  if (records.includes(token)) return;
  const found =
    records.length === 0
      ? 'no TXT record'
      : `TXT ${records
          .slice(0, 5)
          .map((r) => JSON.stringify(r))
          .join(', ')}`;
  throw new DomainError(
    'GOVHOST_DOMAIN_DNS_CHECK_FAILED',
    `${name} has ${found}; it must have the TXT record ${JSON.stringify(token)} before the name is approved`,
    { expected: token, found: records.slice(0, 5) },
  );
}
