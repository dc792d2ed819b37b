import { createHash, X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Log } from './log.ts';
import type { TableCertificate } from './route-table.ts';
import { dnsNames } from './tls-certs.ts';

/**
 * TLS 1.2 and 1.3 only. TLS 1.3's three suites (all AEAD, forward secret), and for TLS 1.2 only
 * ECDHE with AES-GCM or ChaCha20-Poly1305: Mozilla's "intermediate" list less its finite-field DHE
 * suites (slow, and weak groups in the wild). Decision 030.
 */
export const TLS_MIN_VERSION = 'TLSv1.2';
export const TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

interface Held {
  readonly context: SecureContext;
  readonly names: string[];
  readonly notAfter: number;
  readonly notBefore: number;
}

const fingerprintOf = (c: TableCertificate) =>
  createHash('sha256').update(c.chain).update('\0').update(c.key).digest('hex');

/**
 * Host name → TLS context, for SNI: an exact name first, then the wildcard one label up
 * (`*.ird.gov.hk` for `etax.ird.gov.hk`). Replaced whole when a table brings other certificates,
 * so a handshake sees the old set or the new one; contexts of unchanged certificates are reused.
 * A name no certificate covers gets no context at all: the handshake fails, and no other
 * department's certificate (with its names) is shown instead.
 */
export class CertIndex {
  #byName = new Map<string, SecureContext>();
  #held = new Map<string, Held>();

  constructor(private readonly log: Log) {}

  /** The context for an SNI server name, or undefined when no certificate covers it. */
  context(servername: string): SecureContext | undefined {
    const name = servername.toLowerCase();
    const exact = this.#byName.get(name);
    if (exact) return exact;
    const dot = name.indexOf('.');
    return dot > 0 ? this.#byName.get(`*${name.slice(dot)}`) : undefined;
  }

  /** True when a certificate in service covers `host` (the redirect and HSTS follow from it). */
  covers(host: string): boolean {
    return this.context(host) !== undefined;
  }

  /** Takes the table's certificates; those outside their dates now are left out, with a log line. */
  apply(certs: readonly TableCertificate[], now = Date.now()): void {
    const held = new Map<string, Held>();
    for (const c of certs) {
      const fp = fingerprintOf(c);
      let h = this.#held.get(fp) ?? held.get(fp);
      if (!h) {
        try {
          const x = new X509Certificate(c.chain);
          h = {
            context: createSecureContext({
              cert: c.chain,
              key: c.key,
              minVersion: TLS_MIN_VERSION,
              ciphers: TLS_CIPHERS,
            }),
            names: dnsNames(x),
            notAfter: Date.parse(x.validTo),
            notBefore: Date.parse(x.validFrom),
          };
        } catch (err) {
          // The table was checked, so this is unexpected: one certificate lost, not the table.
          this.log.error({ certificate: c.id, err: (err as Error).message }, 'certificate not usable');
          continue;
        }
      }
      held.set(fp, h);
    }
    // Among certificates naming the same host, the one valid the longest wins.
    const best = new Map<string, Held>();
    for (const [fp, h] of held) {
      if (now < h.notBefore || now > h.notAfter) {
        const id = certs.find((c) => fingerprintOf(c) === fp)?.id;
        this.log.warn(
          { certificate: id, names: h.names },
          'certificate outside its validity dates: not served',
        );
        continue;
      }
      for (const n of h.names) {
        const cur = best.get(n);
        if (!cur || h.notAfter > cur.notAfter) best.set(n, h);
      }
    }
    this.#held = held;
    this.#byName = new Map([...best].map(([n, h]) => [n, h.context]));
  }
}
