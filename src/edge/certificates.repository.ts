import type { Executor } from '../platform/database.ts';
import type { CertificateSource } from './certificates.tables.ts';
import './certificates.tables.ts';

/** Every column but the sealed key and the chain: what lists and answers show. */
const SHOWN = [
  'id',
  'names',
  'subject',
  'issuer',
  'not_before',
  'not_after',
  'fingerprint',
  'key_type',
  'source',
  'created_by',
  'created_at',
] as const;

export interface NewCertificateRow {
  names: string[];
  subject: string;
  issuer: string;
  not_before: Date;
  not_after: Date;
  fingerprint: string;
  key_type: string;
  chain_pem: string;
  key_sealed: string;
  source: CertificateSource;
  created_by: string;
}

// Certificates are the platform's, not a department's: only platform roles reach these (roles.ts).
export const insertCertificate = (trx: Executor, row: NewCertificateRow) =>
  trx.insertInto('certificates').values(row).returning(SHOWN).executeTakeFirstOrThrow();

export const listCertificates = (db: Executor) =>
  db.selectFrom('certificates').select(SHOWN).orderBy('not_after').orderBy('id').execute();

export const findCertificate = (db: Executor, id: string) =>
  db.selectFrom('certificates').select(SHOWN).where('id', '=', id).executeTakeFirst();

export const findByFingerprint = (db: Executor, fingerprint: string) =>
  db.selectFrom('certificates').select(SHOWN).where('fingerprint', '=', fingerprint).executeTakeFirst();

export const deleteCertificate = (trx: Executor, id: string) =>
  trx.deleteFrom('certificates').where('id', '=', id).returning(SHOWN).executeTakeFirst();

/** Certificates valid at `now`, with their chain and sealed key: what routers are given. */
export const validCertificates = (db: Executor, now: Date) =>
  db
    .selectFrom('certificates')
    .select(['id', 'chain_pem', 'key_sealed'])
    .where('not_before', '<=', now)
    .where('not_after', '>', now)
    .orderBy('not_after', 'desc')
    .orderBy('id')
    .execute();

/** Names and leaf fingerprints of the certificates valid at `now`: what the platform's own router may present. */
export const validLeaves = (db: Executor, now: Date) =>
  db
    .selectFrom('certificates')
    .select(['names', 'fingerprint'])
    .where('not_before', '<=', now)
    .where('not_after', '>', now)
    .execute();

/** Certificates whose leaf expires before `before` (expired ones included), soonest first. */
export const expiringBefore = (db: Executor, before: Date) =>
  db.selectFrom('certificates').select(SHOWN).where('not_after', '<', before).orderBy('not_after').execute();

export const findHttps = (db: Executor, serviceId: string) =>
  db
    .selectFrom('service_https')
    .select(['https_redirect', 'hsts'])
    .where('service_id', '=', serviceId)
    .executeTakeFirst();

export const saveHttps = (trx: Executor, serviceId: string, s: { https_redirect: boolean; hsts: boolean }) =>
  trx
    .insertInto('service_https')
    .values({ service_id: serviceId, ...s, updated_at: new Date() })
    .onConflict((oc) => oc.column('service_id').doUpdateSet({ ...s, updated_at: new Date() }))
    .execute();

/** Services with redirect or HSTS turned off: the only ones routes need to say anything for. */
export const httpsOff = (db: Executor) =>
  db
    .selectFrom('service_https')
    .select(['service_id', 'https_redirect', 'hsts'])
    .where((eb) => eb.or([eb('https_redirect', '=', false), eb('hsts', '=', false)]))
    .orderBy('service_id')
    .execute();
