import { recordChange } from '../audit/audit.logic.ts';
import { resolveService } from '../catalog/service.logic.ts';
import type { Db } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import {
  auditContext,
  authorize,
  type Caller,
  departmentScope,
  type Principal,
} from '../tenancy/principal.ts';
import { postingsOf } from './ledger.repository.ts';
import { type Providers, providerFor } from './live-mode.ts';
import { getPayment, listRefunds, refundPayment } from './payment.logic.ts';
import * as repo from './payment.repository.ts';

/** A payment of the named service that the caller may see, or the same 404 as a missing one. */
async function staffRow(db: Db, caller: Principal, department: string, slug: string, id: string) {
  const service = await resolveService(db, caller, department, slug);
  const row = await repo.findById(db, { departmentId: departmentScope(caller) }, id);
  if (!row || row.service_id !== service.id)
    throw new DomainError('GOVHOST_PAYMENT_NOT_FOUND', `no payment ${id}`);
  return { service, row };
}

/** One payment as staff see it: its states with their reasons, its refunds and its ledger postings. */
export async function staffPayment(db: Db, caller: Principal, department: string, slug: string, id: string) {
  authorize(caller, 'payments:read');
  const { row } = await staffRow(db, caller, department, slug, id);
  const scope = { serviceId: row.service_id, mode: row.mode };
  const [payment, refunds, postings] = await Promise.all([
    getPayment(db, scope, id),
    listRefunds(db, scope, id),
    postingsOf(db, id),
  ]);
  return {
    ...payment,
    refunds,
    ledger: postings.map((p) => ({ ...p, at: p.at.toISOString() })),
  };
}

/**
 * A refund asked from the console by a department admin (`payments:refund`): the same refund a
 * service makes with its key (never over what was captured, once per `Idempotency-Key` in the
 * payment's service and mode), audited in the transaction that sets the amount aside.
 */
export async function staffRefund(
  db: Db,
  /** The providers of both modes: a live payment is refunded at the live provider (decision 049). */
  providers: Providers,
  caller: Caller,
  target: { department: string; slug: string; id: string },
  amount: number,
  idempotencyKey: string,
) {
  authorize(caller, 'payments:refund');
  const { service, row } = await staffRow(db, caller, target.department, target.slug, target.id);
  return refundPayment(
    db,
    providerFor(providers, row.mode),
    { serviceId: row.service_id, mode: row.mode },
    row.id,
    amount,
    idempotencyKey,
    (trx, refundId) =>
      recordChange(trx, auditContext(caller), {
        action: 'payment.refund',
        targetType: 'payment',
        targetId: row.id,
        departmentId: row.department_id,
        after: { service: `${target.department.toUpperCase()}/${service.slug}`, refundId, amount },
      }),
  );
}
