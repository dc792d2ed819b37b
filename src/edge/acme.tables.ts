import type { ColumnType, Generated } from 'kysely';

/**
 * The platform's ACME account at one CA (its directory URL): created once, reused ever after. The
 * account key is sealed with the platform's SecretBox: the store never holds it in clear.
 */
export interface AcmeAccountTable {
  directory_url: string;
  email: string | null;
  key_sealed: string;
  account_url: string;
  created_at: ColumnType<Date, never, never>;
}

/**
 * HTTP-01 challenges in flight: the routers answer `/.well-known/acme-challenge/<token>` from these
 * (published in the route table), so any router may be the one the CA asks.
 */
export interface AcmeChallengeTable {
  token: string;
  key_authorization: string;
  hostname: string;
  created_at: ColumnType<Date, never, never>;
}

/** One row per host the platform keeps a certificate for through ACME: where it stands. */
export interface AcmeOrderTable {
  hostname: string;
  state: 'pending' | 'valid' | 'failed';
  /** Expiry of the certificate issued last (null before the first issuance). */
  not_after: Date | null;
  issued_at: Date | null;
  last_error: string | null;
  /** Failures in a row since the last success: the backoff doubles with each. */
  failures: Generated<number>;
  /** When the job tries this host again (after a failure); null: at its next round. */
  next_attempt_at: Date | null;
  updated_at: Date;
}

export interface AcmeTables {
  acme_accounts: AcmeAccountTable;
  acme_challenges: AcmeChallengeTable;
  acme_orders: AcmeOrderTable;
}

// The capability adds its tables to the store's schema (`Db`): the platform's floor names no capability.
declare module '../platform/database.ts' {
  interface Database extends AcmeTables {}
}
