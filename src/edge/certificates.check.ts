import { createHash, createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { DomainError } from '../platform/errors.ts';

/** Why an upload is refused: a stable word for scripts, beside the sentence for people. */
export type CertificateRefusal =
  | 'not-pem'
  | 'not-a-certificate'
  | 'not-a-key'
  | 'key-mismatch'
  | 'chain-broken'
  | 'expired'
  | 'not-yet-valid'
  | 'no-dns-names'
  | 'unsupported-key'
  | 'host-not-covered';

/** What the store keeps and shows of a checked certificate (the key is kept apart, sealed). */
export interface CheckedCertificate {
  /** The chain as PEM, leaf first, each block normalised (what routers are given). */
  chain: string;
  /** The private key as PKCS#8 PEM. */
  key: string;
  names: string[];
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 of the leaf's DER, lower-case hex without colons. */
  fingerprint: string;
  keyType: string;
}

/** Key kinds every browser and TLS 1.2 client takes; anything else is refused at upload. */
const EC_CURVES = new Set(['prime256v1', 'secp384r1']);
const MIN_RSA_BITS = 2048;
/** A certificate issued a moment ago on a CA whose clock runs a little ahead is still taken. */
const CLOCK_SKEW_MS = 5 * 60_000;

const UNREADABLE = new Set<CertificateRefusal>(['not-pem', 'not-a-certificate', 'not-a-key']);

/** Unreadable input is a 400; a readable certificate that routers must not serve is a 422. */
const refuse = (reason: CertificateRefusal, detail: string): never => {
  throw new DomainError(
    UNREADABLE.has(reason) ? 'GOVHOST_CERTIFICATE_UNREADABLE' : 'GOVHOST_CERTIFICATE_INVALID',
    detail,
    { reason },
  );
};

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[A-Za-z0-9+/=\r\n]+-----END \1-----/g;

/** The PEM blocks of `text` with their labels, in order. */
function pemBlocks(text: string): { label: string; pem: string }[] {
  return [...text.matchAll(PEM_BLOCK)].map((m) => ({ label: m[1] as string, pem: `${m[0].trim()}\n` }));
}

function parseChain(chainPem: string): X509Certificate[] {
  const blocks = pemBlocks(chainPem);
  if (blocks.length === 0)
    refuse('not-pem', 'the certificate chain holds no PEM block (-----BEGIN CERTIFICATE-----)');
  return blocks.map((b, i) => {
    if (b.label !== 'CERTIFICATE')
      refuse('not-a-certificate', `block ${i + 1} of the chain is a ${b.label}, not a CERTIFICATE`);
    try {
      return new X509Certificate(b.pem);
    } catch {
      return refuse('not-a-certificate', `block ${i + 1} of the chain is not a readable X.509 certificate`);
    }
  });
}

function parseKey(keyPem: string): KeyObject {
  const blocks = pemBlocks(keyPem);
  if (blocks.length !== 1)
    refuse(
      'not-pem',
      `the key must be exactly one PEM block (-----BEGIN PRIVATE KEY-----); found ${blocks.length}`,
    );
  const block = blocks[0] as { label: string; pem: string };
  if (block.label.includes('ENCRYPTED'))
    refuse(
      'not-a-key',
      'the key is encrypted with a passphrase: upload it unencrypted (it is sealed at rest here)',
    );
  try {
    return createPrivateKey(block.pem);
  } catch {
    return refuse('not-a-key', `the ${block.label} block is not a readable private key`);
  }
}

/** `rsa-2048`, `ec-prime256v1`: the key's kind, or a refusal when clients would not take it. */
function keyKind(key: KeyObject): string {
  const d = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    const bits = d.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS)
      refuse('unsupported-key', `an RSA key of ${bits} bits is too short: at least ${MIN_RSA_BITS}`);
    return `rsa-${bits}`;
  }
  if (key.asymmetricKeyType === 'ec' && d.namedCurve && EC_CURVES.has(d.namedCurve))
    return `ec-${d.namedCurve}`;
  return refuse(
    'unsupported-key',
    `a ${key.asymmetricKeyType ?? 'unknown'}${d.namedCurve ? ` (${d.namedCurve})` : ''} key is not supported: use RSA (2048 bits or more) or ECDSA P-256/P-384`,
  );
}

/** The DNS names a certificate covers (its subjectAltName DNS entries), lower case. */
export function dnsNames(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((e) => e.startsWith('DNS:'))
    .map((e) => e.slice(4).toLowerCase());
}

/**
 * Checks an uploaded chain and key as routers will use them, and throws a
 * GOVHOST_CERTIFICATE_INVALID refusal (with `reason`) at the first problem: readable PEM, the key
 * matches the leaf, each certificate is issued and signed by the next one given (a root is not
 * required), all are valid now, the leaf names DNS hosts, the key is one clients take, and (when
 * `host` is given) the leaf covers it.
 * @example checkCertificate(chainPem, keyPem, { now: new Date(), host: 'etax.ird.gov.hk' })
 */
export function checkCertificate(
  chainPem: string,
  keyPem: string,
  opts: { now: Date; host?: string },
): CheckedCertificate {
  const chain = parseChain(chainPem);
  const key = parseKey(keyPem);
  const leaf = chain[0] as X509Certificate;
  const keyType = keyKind(leaf.publicKey);
  if (!leaf.checkPrivateKey(key))
    refuse(
      'key-mismatch',
      `the private key does not belong to the leaf certificate (${leaf.subject.replace(/\n/g, ', ')})`,
    );
  for (let i = 0; i + 1 < chain.length; i++) {
    const child = chain[i] as X509Certificate;
    const issuer = chain[i + 1] as X509Certificate;
    if (!child.checkIssued(issuer) || !child.verify(issuer.publicKey))
      refuse(
        'chain-broken',
        `certificate ${i + 1} of the chain (${oneLine(child.subject)}) is not issued and signed by certificate ${i + 2} (${oneLine(issuer.subject)}): give the chain leaf first, then each issuer`,
      );
  }
  chain.forEach((c, i) => {
    const what =
      i === 0 ? 'the leaf certificate' : `certificate ${i + 1} of the chain (${oneLine(c.subject)})`;
    if (new Date(c.validTo) <= opts.now)
      refuse('expired', `${what} expired on ${new Date(c.validTo).toISOString()}`);
    if (new Date(c.validFrom).getTime() > opts.now.getTime() + CLOCK_SKEW_MS)
      refuse('not-yet-valid', `${what} is not valid before ${new Date(c.validFrom).toISOString()}`);
  });
  const names = dnsNames(leaf);
  if (names.length === 0)
    refuse(
      'no-dns-names',
      'the leaf certificate names no DNS host (subjectAltName): browsers would refuse it',
    );
  if (opts.host && leaf.checkHost(opts.host) === undefined)
    refuse(
      'host-not-covered',
      `the leaf certificate does not cover ${opts.host}; it covers ${names.join(', ')}`,
    );
  return {
    chain: `${chain.map((c) => c.toString().trim()).join('\n')}\n`,
    key: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    names,
    subject: oneLine(leaf.subject),
    issuer: oneLine(leaf.issuer),
    notBefore: new Date(leaf.validFrom),
    notAfter: new Date(leaf.validTo),
    fingerprint: createHash('sha256').update(leaf.raw).digest('hex'),
    keyType,
  };
}

const oneLine = (dn: string) => dn.split('\n').join(', ');
