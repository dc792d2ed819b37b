import type { ColumnType, Generated } from 'kysely';

/** Where a certificate came from: uploaded by an operator, or issued by the platform's ACME client. */
export type CertificateSource = 'uploaded' | 'acme';

/**
 * A TLS certificate routers may serve: checked at upload, its chain in clear (it is public), its
 * private key sealed with the platform's SecretBox (docs/security.md).
 */
export interface CertificateTable {
  id: Generated<string>;
  /** DNS names of the leaf (subjectAltName), lower case; `*.ird.gov.hk` for a wildcard. */
  names: string[];
  subject: string;
  issuer: string;
  not_before: Date;
  not_after: Date;
  /** SHA-256 of the leaf's DER, hex: one row per leaf. */
  fingerprint: string;
  key_type: string;
  /** PEM, leaf first, then each issuer. */
  chain_pem: string;
  /** The private key (PKCS#8 PEM) sealed by SecretBox: never in clear in the store. */
  key_sealed: string;
  source: CertificateSource;
  created_by: string;
  created_at: ColumnType<Date, never, never>;
}

/** A service's HTTPS settings, when it differs from the defaults (both on). */
export interface ServiceHttpsTable {
  service_id: string;
  https_redirect: boolean;
  hsts: boolean;
  updated_at: ColumnType<Date, Date, Date>;
}

export interface CertificateTables {
  certificates: CertificateTable;
  service_https: ServiceHttpsTable;
}

declare module '../platform/database.ts' {
  interface Database extends CertificateTables {}
}
