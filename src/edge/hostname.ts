import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { DomainError } from '../platform/errors.ts';

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

const invalid = (raw: string, why: string) =>
  new DomainError('GOVHOST_DOMAIN_INVALID', `${JSON.stringify(raw)} ${why}`, {
    errors: [{ field: 'body/hostname', message: why }],
  });

/**
 * A host name as the router matches it: lower case, no trailing dot, an IDN as punycode; throws
 * GOVHOST_DOMAIN_INVALID saying why for anything else (wildcards, IP literals, ports, paths).
 * @example normaliseHostname('eTax.IRD.gov.hk.') // 'etax.ird.gov.hk'
 * @example normaliseHostname('稅務.gov.hk') // 'xn--lhr942g.gov.hk'
 */
export function normaliseHostname(raw: string): string {
  const trimmed = raw.trim();
  if (trimmed.includes('*')) throw invalid(raw, 'is a wildcard: claim each host name on its own');
  if (isIP(trimmed.replace(/^\[|\]$/g, '')) !== 0) throw invalid(raw, 'is an IP address, not a host name');
  if (/[/:@?#\s]/.test(trimmed))
    throw invalid(raw, 'must be a host name alone, without scheme, port or path');
  const name = trimmed.toLowerCase().replace(/\.$/, '');
  // WHATWG's domain-to-ASCII: Unicode labels become xn-- labels; '' when the name cannot be one.
  const ascii = domainToASCII(name);
  if (ascii === '') throw invalid(raw, 'is not a valid host name');
  if (ascii.length > 253) throw invalid(raw, 'is longer than 253 characters');
  const labels = ascii.split('.');
  // `localhost` goes on to be refused as the loopback name it is, which says more.
  if (labels.length < 2 && ascii !== 'localhost')
    throw invalid(raw, 'needs at least two labels, such as etax.gov.hk');
  for (const label of labels) {
    if (label.length > 63)
      throw invalid(raw, `has a label longer than 63 characters (${label.slice(0, 20)}…)`);
    if (!LABEL.test(label))
      throw invalid(raw, `has the label ${JSON.stringify(label)}: letters, digits and inner hyphens only`);
  }
  // domainToASCII reads all-digit names as IPv4 (1.2.3 → 1.2.0.3); a numeric last label is never a TLD.
  if (/^\d+$/.test(labels.at(-1) as string)) throw invalid(raw, 'ends in a numeric label: not a host name');
  return ascii;
}

/** The names the platform itself answers at: `domain` and everything under it, its API host, localhost. */
export interface PlatformNames {
  /** Platform domain: services live at `<service>.<dept>.<domain>`. */
  domain: string;
  /** The host the API and console listen on (refused when it is a name, not an address). */
  apiHost: string;
}

const within = (name: string, zone: string) => name === zone || name.endsWith(`.${zone}`);

/** Throws GOVHOST_DOMAIN_RESERVED when `hostname` (normalised) is one of the platform's own names. */
export function refusePlatformName(hostname: string, platform: PlatformNames): void {
  const reserved = (why: string) =>
    new DomainError('GOVHOST_DOMAIN_RESERVED', `${hostname} ${why}: it cannot be claimed by a service`);
  if (within(hostname, 'localhost')) throw reserved('is a loopback name');
  if (within(hostname, platform.domain.toLowerCase()))
    throw reserved(`is under the platform domain ${platform.domain}, which the platform names itself`);
  const api = platform.apiHost.toLowerCase().replace(/\.$/, '');
  if (isIP(api.replace(/^\[|\]$/g, '')) === 0 && hostname === api)
    throw reserved('is the platform console and API host');
}

/**
 * True when `name` (a certificate's DNS name) covers `host`: equal, or a wildcard `*.b.c` for a
 * host of exactly one more label (`a.b.c`, never `x.a.b.c` nor `b.c`), as browsers match it.
 * @example nameCovers('*.ird.gov.hk', 'etax.ird.gov.hk') // true
 */
export function nameCovers(name: string, host: string): boolean {
  if (!name.startsWith('*.')) return name === host;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === name.slice(2);
}
