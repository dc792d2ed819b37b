import type { Db } from '../platform/database.ts';
import { authorize, type Principal } from '../tenancy/principal.ts';
import * as repo from './acme.repository.ts';

/** Where one host's ACME certificate stands, as operators see it. */
export interface AcmeOrderView {
  hostname: string;
  state: 'pending' | 'valid' | 'failed';
  notAfter: string | null;
  issuedAt: string | null;
  lastError: string | null;
  failures: number;
  /** When the job tries again after a failure; null: at its next round (or when renewal is due). */
  nextAttemptAt: string | null;
  updatedAt: string;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** Every host the ACME job keeps a certificate for (operators only: hosts of all departments). */
export async function listAcmeOrders(db: Db, caller: Principal): Promise<AcmeOrderView[]> {
  authorize(caller, 'acme:read');
  return (await repo.listOrders(db)).map((r) => ({
    hostname: r.hostname,
    state: r.state,
    notAfter: iso(r.not_after),
    issuedAt: iso(r.issued_at),
    lastError: r.last_error,
    failures: r.failures,
    nextAttemptAt: iso(r.next_attempt_at),
    updatedAt: r.updated_at.toISOString(),
  }));
}
