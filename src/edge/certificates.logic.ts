import { type AuditContext, recordChange } from '../audit/audit.logic.ts';
import type { Db } from '../platform/database.ts';
import { isUniqueViolation } from '../platform/db-errors.ts';
import { DomainError } from '../platform/errors.ts';
import type { SecretBox } from '../platform/secrets.ts';
import { auditContext, authorize, type Caller, type Principal } from '../tenancy/principal.ts';
import { checkCertificate } from './certificates.check.ts';
import * as repo from './certificates.repository.ts';
import type { CertificateSource } from './certificates.tables.ts';
import { nameCovers } from './hostname.ts';

const DAY_MS = 86_400_000;

export interface CertificateDeps {
  db: Db;
  box: SecretBox;
  /** Tells the runtime the edge changed, so the route table is published again (none in API-only tests). */
  changed?: () => Promise<void>;
  now?: () => Date;
}

/** A stored certificate as the API shows it: never its key. */
export interface Certificate {
  id: string;
  names: string[];
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  /** Whole days until the leaf expires, negative once it has. */
  daysLeft: number;
  fingerprint: string;
  keyType: string;
  source: CertificateSource;
  createdBy: string;
  createdAt: string;
}

type Row = NonNullable<Awaited<ReturnType<typeof repo.findCertificate>>>;

const present = (r: Row, now: Date): Certificate => ({
  id: r.id,
  names: r.names,
  subject: r.subject,
  issuer: r.issuer,
  notBefore: r.not_before.toISOString(),
  notAfter: r.not_after.toISOString(),
  daysLeft: Math.floor((r.not_after.getTime() - now.getTime()) / DAY_MS),
  fingerprint: r.fingerprint,
  keyType: r.key_type,
  source: r.source,
  createdBy: r.created_by,
  createdAt: r.created_at.toISOString(),
});

const nowOf = (deps: CertificateDeps) => deps.now?.() ?? new Date();

/** An operator's upload: `certificates:write`, then storeCertificate. */
export async function addCertificate(
  deps: CertificateDeps,
  caller: Caller,
  input: { chain: string; key: string; host?: string },
): Promise<Certificate> {
  authorize(caller, 'certificates:write');
  return storeCertificate(deps, auditContext(caller), { ...input, source: 'uploaded' });
}

/**
 * Checks and stores a certificate with its key sealed, audits it as `actor`, and has the route
 * table published again. For the platform's own issuance (ACME), which has no caller to authorise.
 * @example storeCertificate(deps, { actorId: null, actorName: 'acme', requestId: null }, { chain, key, source: 'acme' })
 */
export async function storeCertificate(
  deps: CertificateDeps,
  actor: AuditContext,
  input: { chain: string; key: string; host?: string; source: CertificateSource },
): Promise<Certificate> {
  const now = nowOf(deps);
  const c = checkCertificate(input.chain, input.key, { now, ...(input.host ? { host: input.host } : {}) });
  const exists = () =>
    new DomainError(
      'GOVHOST_CERTIFICATE_EXISTS',
      `this certificate (sha256 ${c.fingerprint}) is already stored`,
    );
  const row = await deps.db
    .transaction()
    .execute(async (trx) => {
      if (await repo.findByFingerprint(trx, c.fingerprint)) throw exists();
      const stored = await repo.insertCertificate(trx, {
        names: c.names,
        subject: c.subject,
        issuer: c.issuer,
        not_before: c.notBefore,
        not_after: c.notAfter,
        fingerprint: c.fingerprint,
        key_type: c.keyType,
        chain_pem: c.chain,
        key_sealed: deps.box.seal(c.key),
        source: input.source,
        created_by: actor.actorName,
      });
      const shown = present(stored, now);
      await recordChange(trx, actor, {
        action: 'certificate.add',
        targetType: 'certificate',
        targetId: stored.id,
        departmentId: null,
        after: shown,
      });
      return shown;
    })
    .catch((err: unknown) => {
      // The same certificate uploaded twice at once: the unique fingerprint refuses the second.
      throw isUniqueViolation(err) ? exists() : err;
    });
  await deps.changed?.();
  return row;
}

export async function listCertificates(deps: CertificateDeps, caller: Principal): Promise<Certificate[]> {
  authorize(caller, 'certificates:read');
  const now = nowOf(deps);
  return (await repo.listCertificates(deps.db)).map((r) => present(r, now));
}

const notFound = (id: string) => new DomainError('GOVHOST_CERTIFICATE_NOT_FOUND', `no certificate ${id}`);

export async function getCertificate(
  deps: CertificateDeps,
  caller: Principal,
  id: string,
): Promise<Certificate> {
  authorize(caller, 'certificates:read');
  const row = await repo.findCertificate(deps.db, id);
  if (!row) throw notFound(id);
  return present(row, nowOf(deps));
}

/** Removes a certificate (routers stop serving it with the next table), audited. */
export async function removeCertificate(
  deps: CertificateDeps,
  caller: Caller,
  id: string,
): Promise<Certificate> {
  authorize(caller, 'certificates:write');
  const gone = await deps.db.transaction().execute(async (trx) => {
    const row = await repo.deleteCertificate(trx, id);
    if (!row) throw notFound(id);
    const shown = present(row, nowOf(deps));
    await recordChange(trx, auditContext(caller), {
      action: 'certificate.remove',
      targetType: 'certificate',
      targetId: id,
      departmentId: null,
      before: shown,
    });
    return shown;
  });
  await deps.changed?.();
  return gone;
}

/** Certificates whose leaf expires within `days` (or has expired), soonest first: for alerting. */
export async function expiringCertificates(db: Db, days: number, now = new Date()): Promise<Certificate[]> {
  return (await repo.expiringBefore(db, new Date(now.getTime() + days * DAY_MS))).map((r) => present(r, now));
}

/**
 * The names operators' uploaded certificates cover until at least `until`: hosts the platform's
 * own issuance (ACME) leaves alone, e.g. a department's wildcard.
 */
export async function uploadedNamesValidUntil(db: Db, until: Date): Promise<string[]> {
  return (await repo.listCertificates(db))
    .filter((r) => r.source === 'uploaded' && r.not_after > until)
    .flatMap((r) => r.names);
}

/** A certificate as the route table carries it: the key still sealed (open it with `openKeys`). */
export interface SealedCertificate {
  id: string;
  chain: string;
  key: string;
}

/**
 * The certificates routers should serve now: each one still valid, with its chain and its key
 * SEALED, so the table the runtime stores holds no clear key. The runtime opens the keys only
 * when it hands a table to a router (`openKeys`).
 */
export async function certificatesForRoutes(db: Db, now = new Date()): Promise<SealedCertificate[]> {
  return (await repo.validCertificates(db, now)).map((r) => ({
    id: r.id,
    chain: r.chain_pem,
    key: r.key_sealed,
  }));
}

/**
 * The SHA-256 fingerprints (hex, of the leaf's DER, as stored) of the certificates valid now whose
 * names cover `host`: the leaves the platform's own router may present for it, since it serves
 * only what this store gives it. What a connection from the platform to its router is pinned to.
 */
export async function storedLeafFingerprints(db: Db, host: string, now = new Date()): Promise<string[]> {
  const name = host.toLowerCase().replace(/\.$/, '');
  return (await repo.validLeaves(db, now))
    .filter((r) => r.names.some((n) => nameCovers(n, name)))
    .map((r) => r.fingerprint);
}

/** The same certificates with their keys opened: only for a table handed to a router. */
export const openKeys = <T extends { key: string }>(certs: readonly T[], box: SecretBox): T[] =>
  certs.map((c) => ({ ...c, key: box.open(c.key) }));
