import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';

/**
 * Checks an operator's certificate (PEM chain, leaf first) and its private key with node's own
 * X.509 code: no ASN.1 is read here. The control plane checks at upload with the clock; the
 * router checks every table it is given without it (an expired certificate in a held table must
 * not make the whole table, every department's routes, unreadable on the next restart).
 */

/** Why a certificate was refused: a stable word for programs, a sentence for people. */
export type CertProblem =
  | 'not-pem'
  | 'unreadable'
  | 'key-unreadable'
  | 'key-mismatch'
  | 'chain'
  | 'ca-leaf'
  | 'no-names'
  | 'expired'
  | 'not-yet-valid';

export interface CertFacts {
  /** DNS names the leaf covers (subjectAltName), lower case; `*.dept.gov` for a wildcard. */
  names: string[];
  notBefore: Date;
  notAfter: Date;
  subject: string;
  issuer: string;
  /** SHA-256 fingerprint of the leaf, `AB:CD:…`. */
  fingerprint: string;
}

export type CertCheck = { ok: true; facts: CertFacts } | { ok: false; problem: CertProblem; reason: string };

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
// One label of a host name, or `*` as the whole left-most label (RFC 6125 §6.4.3, as browsers).
const DNS_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

const refuse = (problem: CertProblem, reason: string): CertCheck => ({ ok: false, problem, reason });

/** The DNS names of a certificate's subjectAltName, lower case; other kinds (IP, email) left out. */
export function dnsNames(cert: X509Certificate): string[] {
  const san = cert.subjectAltName ?? '';
  const names: string[] = [];
  for (const part of san.split(/,\s*/)) {
    if (!part.startsWith('DNS:')) continue;
    const name = part.slice(4).toLowerCase();
    if (DNS_NAME.test(name)) names.push(name);
  }
  return names;
}

/** Reads the certificates of a PEM chain; null when it holds none. */
export function readChain(chainPem: string): X509Certificate[] | null | Error {
  const blocks = chainPem.match(PEM_CERT);
  if (!blocks) return null;
  try {
    return blocks.map((b) => new X509Certificate(b));
  } catch (err) {
    return err as Error;
  }
}

const describe = (c: X509Certificate) => c.subject.replaceAll('\n', ', ');

/**
 * Checks that `keyPem` is the leaf's key, that each certificate is issued and signed by the next
 * one given (a root need not be), that the leaf is not a CA and names at least one DNS host, and,
 * when `now` is given, that every certificate is valid at `now`.
 * @example checkCertificate(chain, key, new Date()) // at upload
 */
export function checkCertificate(chainPem: string, keyPem: string, now: Date | null): CertCheck {
  const certs = readChain(chainPem);
  if (certs === null)
    return refuse('not-pem', 'the certificate holds no PEM block (-----BEGIN CERTIFICATE-----)');
  if (certs instanceof Error)
    return refuse('unreadable', `a certificate of the chain cannot be read: ${certs.message}`);
  let key: KeyObject;
  try {
    if (!/-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(keyPem)) throw new Error('no PEM private key block');
    key = createPrivateKey({ key: keyPem, format: 'pem' });
  } catch (err) {
    return refuse(
      'key-unreadable',
      `the key is not an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----): ${(err as Error).message}`,
    );
  }
  const leaf = certs[0]!;
  if (!leaf.checkPrivateKey(key))
    return refuse(
      'key-mismatch',
      `the private key does not belong to the first certificate (${describe(leaf)})`,
    );
  if (leaf.ca)
    return refuse('ca-leaf', `the first certificate (${describe(leaf)}) is a CA certificate, not a server's`);
  for (let i = 0; i + 1 < certs.length; i++) {
    const child = certs[i]!;
    const parent = certs[i + 1]!;
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey))
      return refuse(
        'chain',
        `certificate ${i + 1} of the chain (${describe(child)}) is not signed by certificate ${i + 2} (${describe(parent)})`,
      );
  }
  const names = dnsNames(leaf);
  if (names.length === 0)
    return refuse(
      'no-names',
      'the certificate names no DNS host in its subjectAltName (a CN alone is not used)',
    );
  if (now !== null) {
    for (const [i, c] of certs.entries()) {
      const from = new Date(c.validFrom);
      const to = new Date(c.validTo);
      const which = i === 0 ? 'the certificate' : `certificate ${i + 1} of the chain (${describe(c)})`;
      if (now < from) return refuse('not-yet-valid', `${which} is not valid before ${from.toISOString()}`);
      if (now > to) return refuse('expired', `${which} expired on ${to.toISOString()}`);
    }
  }
  return {
    ok: true,
    facts: {
      names,
      notBefore: new Date(leaf.validFrom),
      notAfter: new Date(leaf.validTo),
      subject: describe(leaf),
      issuer: leaf.issuer.replaceAll('\n', ', '),
      fingerprint: leaf.fingerprint256,
    },
  };
}
